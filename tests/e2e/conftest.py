"""The whole system as separate OS processes (as in deployment): the simulator, ingest-api,
ingest-worker, dispatcher, media-worker, media-api and the gateway, over the session's real
Postgres, broker and S3."""

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from pydantic import SecretStr

from auth.tokens import mint
from config import AuthSettings
from contracts import Provider
from credentials import Vault
from devstack.demo import WiredIntegration, wire_demo
from devstack.services import SPECS, ServiceSet
from devstack.stack import Endpoints
from omnicli.entrypoints import ENTRYPOINTS


@dataclass(frozen=True)
class System:
    urls: dict[str, str]
    services: ServiceSet
    auth: AuthSettings

    def token(self, tenant_id: UUID, user: str = "agent-1") -> str:
        return mint(self.auth, tenant_id=tenant_id, user_id=user, role="agent")


@pytest.fixture(scope="module")
def system(
    stack: Endpoints, stack_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[System]:
    names = [s.name for s in SPECS]
    missing = [n for n in names if n not in ENTRYPOINTS]
    if missing:
        pytest.skip(f"entry points not registered yet: {', '.join(missing)}")
    logs: Path = tmp_path_factory.mktemp("e2e-logs")
    services = ServiceSet(names, stack_env, logs, sys.executable)
    services.start()
    auth = AuthSettings(
        algorithm="HS256",
        secret=SecretStr(stack_env["JWT_SECRET"]),
        issuer=stack_env["JWT_ISSUER"],
        audience=stack_env["JWT_AUDIENCE"],
    )
    try:
        yield System(services.urls, services, auth)
    finally:
        services.stop()


async def wired_tenant(
    make_tenant: Any, stack: Endpoints, vault: Vault, system: System, prefix: str = "e2e"
) -> tuple[UUID, dict[Provider, WiredIntegration]]:
    """A new tenant with one integration per provider, wired to the system's simulator."""
    tenant_id = await make_tenant()
    wired = await wire_demo(
        stack.database_url,
        vault,
        tenant_id=tenant_id,
        sim_url=system.urls["simulator"],
        ingest_url=system.urls["ingest-api"],
        account_prefix=f"{prefix}-{uuid4().hex[:8]}",
    )
    return tenant_id, {w.provider: w for w in wired}
