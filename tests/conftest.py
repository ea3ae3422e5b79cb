"""Shared fixtures: one real infrastructure per test session (the same launcher as ``omni dev``),
and factories for tenants. Tests isolate themselves by using fresh tenants, not by cleaning up."""

import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from uuid import UUID, uuid4

import asyncpg
import pytest
from pydantic import SecretStr

from config.shared import CredentialSettings, DatabaseSettings, KafkaSettings, S3Settings
from credentials import Vault, new_key
from db.pool import create_pool
from db.provision import insert_tenant, upsert_member
from devstack.containers import docker_available
from devstack.settings import StackSettings
from devstack.stack import Endpoints, Stack

# Provider calls made by anything this suite starts (in this process or in service processes,
# which inherit the environment) may only go to this machine: an integration without a
# simulator URL then fails fast instead of reaching a real provider. Even there, only the
# simulators named in PROVIDER_EGRESS_ALLOW (set where one is started) are reachable, over the
# plain http they speak.
os.environ["PROVIDER_EGRESS"] = "loopback"
os.environ["PROVIDER_ALLOW_HTTP"] = "true"


def egress_allow(*base_urls: str) -> str:
    """``PROVIDER_EGRESS_ALLOW`` naming these servers (``host:port``) and nothing else."""
    return ",".join(base_url.split("://", 1)[1].rstrip("/") for base_url in base_urls)


def _stack_settings() -> StackSettings:
    settings = StackSettings()
    if settings.omni_infra == "docker":
        ok, reason = docker_available()
        if not ok:
            pytest.skip(f"OMNI_INFRA=docker but {reason}")
    return settings


@pytest.fixture(scope="session")
def stack() -> Iterator[Endpoints]:
    """Postgres, Kafka and S3 for the whole session: given addresses or embedded processes.

    Their files live in a folder of their own, not under pytest's: pytest sets
    ``pytest-of-<user>`` back to mode 0700 whenever a session starts, which would lock the
    embedded Postgres's system user (used when running as root) out of the data directory of
    a second test session running at the same time."""
    root = Path(tempfile.mkdtemp(prefix="omni-test-stack-"))
    running = Stack(_stack_settings(), root)
    try:
        endpoints = running.start()
        try:
            running.prepare()
            yield endpoints
        finally:
            running.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def stack_env(stack: Endpoints) -> dict[str, str]:
    """Environment for a service process started by a test."""
    return {**os.environ, **stack.env(), **TEST_SECRETS, "LOG_FORMAT": "console"}


TEST_SECRETS = {
    "JWT_ALGORITHM": "HS256",
    "JWT_SECRET": secrets.token_urlsafe(32),
    "JWT_ISSUER": "omni-test",
    "JWT_AUDIENCE": "omni",
    "CREDENTIAL_KEYS": new_key(),
}


@pytest.fixture(scope="session")
def kafka_settings(stack: Endpoints) -> KafkaSettings:
    return KafkaSettings(
        bootstrap=stack.kafka_bootstrap,
        idempotent=stack.kafka_idempotent,
        fetch_max_wait_ms=stack.kafka_fetch_max_wait_ms or 100,
    )


@pytest.fixture(scope="session")
def s3_settings(stack: Endpoints) -> S3Settings:
    return S3Settings(
        endpoint=stack.s3_endpoint,
        bucket=stack.s3_bucket,
        access_key=SecretStr(stack.s3_access_key),
        secret_key=SecretStr(stack.s3_secret_key),
    )


@pytest.fixture(scope="session")
def db_settings(stack: Endpoints) -> DatabaseSettings:
    return DatabaseSettings(app_database_url=SecretStr(stack.app_database_url))


@pytest.fixture(scope="session")
def vault() -> Vault:
    return Vault.from_settings(
        CredentialSettings(credential_keys=SecretStr(TEST_SECRETS["CREDENTIAL_KEYS"]))
    )


@pytest.fixture(scope="session")
async def app_pool(db_settings: DatabaseSettings) -> AsyncIterator[asyncpg.Pool]:
    """A pool of the application role: every query it runs is subject to RLS."""
    pool = await create_pool(db_settings)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
async def owner_conn(stack: Endpoints) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(stack.database_url)
    yield conn
    await conn.close()


@pytest.fixture
async def make_tenant(owner_conn: asyncpg.Connection):  # type: ignore[no-untyped-def]
    """Factory: a fresh tenant with an agent and an admin; returns its id."""

    async def make(name: str = "Tenant") -> UUID:
        tenant_id = uuid4()
        async with owner_conn.transaction():
            await owner_conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant_id))
            await insert_tenant(
                owner_conn, tenant_id=tenant_id, name=name, slug=f"t-{tenant_id.hex[:20]}"
            )
            await upsert_member(owner_conn, tenant_id=tenant_id, user_id="agent-1", role="agent")
            await upsert_member(owner_conn, tenant_id=tenant_id, user_id="admin-1", role="admin")
        return tenant_id

    return make
