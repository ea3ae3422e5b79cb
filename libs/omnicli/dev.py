"""``omni dev``: the whole system on this machine, until Ctrl-C."""

import asyncio
import os
import signal
import sys
import threading
from pathlib import Path
from uuid import UUID

from pydantic import SecretStr

from auth.tokens import mint
from config import AuthSettings
from credentials import new_key
from db.seed import DEMO_ADMIN, DEMO_AGENT, seed_demo
from devstack.settings import StackSettings
from devstack.stack import Stack
from devstack.supervisor import Supervisor
from omnicli.entrypoints import ENTRYPOINTS


def _persistent_secret(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = new_key()
    path.write_text(value + "\n")
    path.chmod(0o600)
    return value


def dev_secrets(state: Path) -> dict[str, str]:
    """Secrets for development, made once and kept in the state folder (never committed)."""
    return {
        "JWT_ALGORITHM": "HS256",
        "JWT_SECRET": _persistent_secret(state / "secrets" / "jwt-secret"),
        "JWT_ISSUER": "omni-dev",
        "JWT_AUDIENCE": "omni",
        "CREDENTIAL_KEYS": _persistent_secret(state / "secrets" / "credential-key"),
    }


def write_env_file(path: Path, values: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{k}={_shell_quote(v)}" for k, v in values.items()]
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)


def _shell_quote(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"


def run(infra_only: bool) -> int:
    settings = StackSettings()
    state = settings.omni_state_dir.resolve()
    stack = Stack(settings, state)
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    supervisor: Supervisor | None = None
    try:
        print("starting infrastructure ...", flush=True)
        endpoints = stack.start()
        stack.prepare()
        tenant_id: UUID = asyncio.run(seed_demo(endpoints.database_url))
        env = {**os.environ, **endpoints.env(), **dev_secrets(state), "LOG_FORMAT": "console"}
        auth = AuthSettings(
            algorithm="HS256",
            secret=SecretStr(env["JWT_SECRET"]),
            issuer=env["JWT_ISSUER"],
            audience=env["JWT_AUDIENCE"],
        )
        agent_token = mint(
            auth, tenant_id=tenant_id, user_id=DEMO_AGENT, role="agent", ttl_s=7 * 24 * 3600
        )
        admin_token = mint(
            auth, tenant_id=tenant_id, user_id=DEMO_ADMIN, role="admin", ttl_s=7 * 24 * 3600
        )
        dev_env = {
            **endpoints.env(),
            **dev_secrets(state),
            "OMNI_DEMO_TENANT_ID": str(tenant_id),
            "OMNI_AGENT_TOKEN": agent_token,
            "OMNI_ADMIN_TOKEN": admin_token,
        }
        write_env_file(state / "dev.env", dev_env)
        for part, where in stack.parts().items():
            print(f"  {part:<9} {where}")
        print(f"  tenant    {tenant_id} (demo: users {DEMO_AGENT!r}, {DEMO_ADMIN!r})")
        print(f"  token     {agent_token}")
        print(f"  env       {state / 'dev.env'}  (set -a; . {state / 'dev.env'}; set +a)")
        if not infra_only and ENTRYPOINTS:
            supervisor = Supervisor(env)
            for name in ENTRYPOINTS:
                supervisor.add(name, [sys.executable, "-m", "omnicli", "run", name])
            supervisor.start_all()
            print(f"  services  {', '.join(ENTRYPOINTS)}")
        elif not ENTRYPOINTS:
            print("  services  none registered yet: infrastructure only")
        print("ready; Ctrl-C stops everything", flush=True)
        if supervisor is not None:
            supervisor.watch(stop)
        else:
            stop.wait()
    finally:
        print("stopping ...", flush=True)
        if supervisor is not None:
            supervisor.stop_all()
        stack.stop()
        print("stopped", flush=True)
    return 0
