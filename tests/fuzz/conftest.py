"""The gateway and media-api as their own processes (``omni run ...``) over the session's real
Postgres, broker and bucket, for schemathesis to call over HTTP; and a valid agent token of a
fresh tenant."""

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from auth.tokens import mint
from config.shared import AuthSettings
from devstack.process import free_port
from tests.conftest import TEST_SECRETS

AUTH = AuthSettings(
    algorithm="HS256",
    secret=SecretStr(TEST_SECRETS["JWT_SECRET"]),
    issuer=TEST_SECRETS["JWT_ISSUER"],
    audience=TEST_SECRETS["JWT_AUDIENCE"],
)


def _serve(command: str, env: dict[str, str]) -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "omnicli", "run", command],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{env['PORT_UNDER_TEST']}"
    ops = f"http://127.0.0.1:{env['OPS_PORT']}"  # readiness is on the ops port only
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"{command} exited during startup"
            try:
                if httpx.get(f"{ops}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"{command} not ready within 60 s"
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def gateway_url(stack_env: dict[str, str]) -> Iterator[str]:
    port = str(free_port())
    env = {
        **stack_env,
        "GATEWAY_HOST": "127.0.0.1",
        "GATEWAY_PORT": port,
        "PORT_UNDER_TEST": port,
        "OPS_PORT": str(free_port()),
    }
    yield from _serve("gateway", env)


@pytest.fixture(scope="session")
def media_api_url(stack_env: dict[str, str]) -> Iterator[str]:
    port = str(free_port())
    env = {
        **stack_env,
        "MEDIA_HOST": "127.0.0.1",
        "MEDIA_PORT": port,
        "PORT_UNDER_TEST": port,
        "OPS_PORT": str(free_port()),
    }
    yield from _serve("media-api", env)


MakeTenant = Callable[..., Any]


@pytest.fixture
async def agent_headers(make_tenant: MakeTenant) -> dict[str, str]:
    tenant_id = await make_tenant("Fuzzed")
    token = mint(AUTH, tenant_id=tenant_id, user_id="agent-1", role="agent")
    return {"Authorization": f"Bearer {token}"}
