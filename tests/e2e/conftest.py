"""The whole system as separate OS processes (as in deployment): the simulator, ingest-api,
ingest-worker, dispatcher, media-worker, media-api and the gateway, over the session's real
Postgres, broker and S3."""

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import pytest
from pydantic import SecretStr

from auth.tokens import mint
from config import AuthSettings
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
