"""``omni dev``: the whole system on this machine, until Ctrl-C."""

import asyncio
import os
import signal
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from uuid import UUID

from pydantic import SecretStr

from auth.tokens import mint
from config import AuthSettings
from credentials import Vault, new_key
from db.seed import DEMO_ADMIN, DEMO_AGENT, seed_demo
from devstack.demo import wire_demo
from devstack.services import BY_NAME, SPECS, metrics_urls, plan_ports, service_env, urls
from devstack.settings import StackSettings
from devstack.stack import Stack
from devstack.supervisor import Supervisor
from devstack.traces import TraceSink
from devstack.web import build_web
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


def _wait_ready(url: str, timeout_s: float = 90.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.3)
    return False


# The sign-in link's token: short-lived, as it sits in a URL (a fresh one with each `make dev`;
# the sign-in screen also takes one from `omni token`).
SIGN_IN_TTL_S = 3600
WEB = Path(__file__).resolve().parents[2] / "web"


def sign_in_url(gateway: str, token: str, media: str | None) -> str:
    """The fragment never reaches a server or its logs (a query string would)."""
    fragment = f"token={token}"
    if media is not None:
        fragment += "&" + urllib.parse.urlencode({"media": media})
    return f"{gateway}/#{fragment}"


def dev_traces(env: dict[str, str], state: Path) -> tuple[TraceSink | None, str]:
    """Tracing for development: the services export to the operator's collector when
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set, otherwise to a receiver started here that keeps
    the spans in ``state/traces.jsonl`` for ``omni trace`` (updates ``env``). Where they go."""
    if env.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return None, "off (OTEL_SDK_DISABLED)"
    given = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if given:
        return None, f"exported to {given}"
    sink = TraceSink(state / "traces.jsonl").start()
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = sink.endpoint
    # Export every half second (the SDK's default is 5 s): `omni trace` right after a message.
    env.setdefault("OTEL_BSP_SCHEDULE_DELAY", "500")
    return sink, f"{sink.path} (OTLP/HTTP at {sink.endpoint}; `omni trace MESSAGE_ID`)"


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
    sink: TraceSink | None = None
    try:
        print("starting infrastructure ...", flush=True)
        endpoints = stack.start()
        stack.prepare()
        tenant_id: UUID = asyncio.run(seed_demo(endpoints.database_url))
        secrets_env = dev_secrets(state)
        # Development talks to the simulator only: no provider call leaves this machine
        # unless PROVIDER_EGRESS=internet is set on purpose.
        env = {
            "PROVIDER_EGRESS": "loopback",
            **os.environ,
            **endpoints.env(),
            **secrets_env,
            "LOG_FORMAT": "console",
        }
        sink, traces = dev_traces(env, state)
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
            **secrets_env,
            "OMNI_DEMO_TENANT_ID": str(tenant_id),
            "OMNI_AGENT_TOKEN": agent_token,
            "OMNI_ADMIN_TOKEN": admin_token,
        }
        if sink is not None:  # a process started by hand with dev.env traces there too
            dev_env["OTEL_EXPORTER_OTLP_ENDPOINT"] = sink.endpoint
            dev_env["OMNI_TRACES_FILE"] = str(sink.path)
        for part, address in stack.parts().items():
            print(f"  {part:<11} {address}")
        print(f"  traces      {traces}")
        names = [s.name for s in SPECS if s.name in ENTRYPOINTS]
        if infra_only or not names:
            if not names:
                print("  services    none registered yet: infrastructure only")
            write_env_file(state / "dev.env", dev_env)
        else:
            built, how = build_web(WEB)
            print(f"  web inbox   {how}", flush=True)
            ports = plan_ports(names, prefer_dev_ports=True)
            where = urls(ports)
            supervisor = Supervisor(env)
            for name in names:
                supervisor.add(
                    name,
                    [sys.executable, "-m", "omnicli", "run", name],
                    env=service_env(name, ports, env),
                )
            supervisor.start_all()
            dev_env.update({f"OMNI_{n.upper().replace('-', '_')}_URL": u for n, u in where.items()})
            if (
                "simulator" in where
                and "ingest-api" in where
                and _wait_ready(where["simulator"] + "/healthz")
            ):
                vault = Vault([secrets_env["CREDENTIAL_KEYS"]])
                wired = asyncio.run(
                    wire_demo(
                        endpoints.database_url,
                        vault,
                        tenant_id=tenant_id,
                        sim_url=where["simulator"],
                        ingest_url=where["ingest-api"],
                    )
                )
                for w in wired:
                    dev_env[f"OMNI_WEBHOOK_URL_{w.provider.value.upper()}"] = w.webhook_url
                    print(f"  webhook     {w.provider.value:<9} {w.webhook_url}")
            write_env_file(state / "dev.env", dev_env)
            for name in names:
                if BY_NAME[name].public:
                    print(f"  {name:<11} {where[name]}")
            if "gateway" in where and built:
                link_token = mint(
                    auth, tenant_id=tenant_id, user_id=DEMO_AGENT, role="agent", ttl_s=SIGN_IN_TTL_S
                )
                link = sign_in_url(where["gateway"], link_token, where.get("media-api"))
                print(f"  inbox       {link}  (sign-in link, valid 1 h)")
            if "gateway" in where:
                print(f"  API docs    {where['gateway']}/docs")
                print(f"  websocket   {where['gateway'].replace('http', 'ws', 1)}/v1/ws")
            for name, url in metrics_urls(ports).items():
                print(f"  metrics     {name:<13} {url}")
            if "simulator" in where:
                print(
                    "  customers   .venv/bin/omni sim drive --url "
                    f"{where['simulator']} --count 100 --rate 5 --kinds text,image,document"
                )
        print(f"  tenant      {tenant_id} (users {DEMO_AGENT!r}, {DEMO_ADMIN!r})")
        print(f"  token       {agent_token}")
        print(f"  env         {state / 'dev.env'}  (set -a; . {state / 'dev.env'}; set +a)")
        print("ready; Ctrl-C stops everything", flush=True)
        if supervisor is not None:
            supervisor.watch(stop)
        else:
            stop.wait()
    finally:
        print("stopping ...", flush=True)
        if supervisor is not None:
            supervisor.stop_all()
        if sink is not None:
            sink.stop()  # after the services, which export their last spans as they exit
        stack.stop()
        print("stopped", flush=True)
    return 0
