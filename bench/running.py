"""The whole system for a benchmark step: every service as its own process on one stack, a
bench tenant wired to the simulator, an agent's token; or all that on infrastructure of its
own (``fresh_system``)."""

import asyncio
import os
import secrets
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID, uuid4

import asyncpg
from pydantic import SecretStr

from auth.tokens import mint
from config import AuthSettings
from contracts import Provider
from credentials import Vault, new_key
from db.provision import insert_tenant, upsert_member
from db.tenant import tenant_tx
from devstack.demo import wire_demo
from devstack.services import SPECS, ServiceSet
from devstack.settings import StackSettings
from devstack.stack import Stack


async def create_tenant(owner_url: str) -> UUID:
    tenant_id = uuid4()
    conn = await asyncpg.connect(owner_url)
    try:
        async with conn.transaction():
            await conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant_id))
            await insert_tenant(
                conn, tenant_id=tenant_id, name="Bench", slug=f"bench-{tenant_id.hex[:12]}"
            )
            await upsert_member(conn, tenant_id=tenant_id, user_id="bench-agent", role="agent")
    finally:
        await conn.close()
    return tenant_id


@dataclass
class Running:
    """Every service up on one stack, a bench tenant wired to the simulator."""

    services: ServiceSet
    pool: asyncpg.Pool
    tenant_id: UUID
    integration_id: UUID  # the Meta integration the load goes through
    account: str
    webhook_key: str
    app_secret: str
    token: str  # an agent of the tenant


@asynccontextmanager
async def running_system(stack: Stack, logs: Path) -> AsyncIterator[Running]:
    assert stack.endpoints is not None
    e = stack.endpoints
    jwt_secret, credential_key = secrets.token_urlsafe(32), new_key()
    env = {
        **os.environ,
        **e.env(),
        "JWT_ALGORITHM": "HS256",
        "JWT_SECRET": jwt_secret,
        "JWT_ISSUER": "omni-bench",
        "JWT_AUDIENCE": "omni",
        "CREDENTIAL_KEYS": credential_key,
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "GATEWAY_SEND_QUEUE_MAX": "4096",
        "GATEWAY_MAX_CHANNELS": "16",
    }
    services = ServiceSet([s.name for s in SPECS], env, logs, sys.executable)
    await asyncio.to_thread(services.start)
    try:
        tenant_id = await create_tenant(e.database_url)
        vault = Vault([credential_key])
        wired = {
            w.provider: w
            for w in await wire_demo(
                e.database_url,
                vault,
                tenant_id=tenant_id,
                sim_url=services.urls["simulator"],
                ingest_url=services.urls["ingest-api"],
                account_prefix=f"b{uuid4().hex[:6]}",
            )
        }
        meta = wired[Provider.META]
        pool = await asyncpg.create_pool(e.app_database_url, min_size=1, max_size=4)
        assert pool is not None
        try:
            async with tenant_tx(pool, tenant_id) as conn:
                app_secret = vault.open(
                    await conn.fetchval(
                        "SELECT credentials FROM integrations WHERE id = $1", meta.integration_id
                    )
                )["app_secret"]
            auth = AuthSettings(
                algorithm="HS256",
                secret=SecretStr(jwt_secret),
                issuer="omni-bench",
                audience="omni",
            )
            yield Running(
                services=services,
                pool=pool,
                tenant_id=tenant_id,
                integration_id=meta.integration_id,
                account=meta.account_id,
                webhook_key=meta.webhook_url.rsplit("/", 1)[1],
                app_secret=app_secret,
                token=mint(
                    auth, tenant_id=tenant_id, user_id="bench-agent", role="agent", ttl_s=3600
                ),
            )
        finally:
            await pool.close()
    finally:
        await asyncio.to_thread(services.stop)


@asynccontextmanager
async def fresh_system(root: Path, logs: Path, name: str) -> AsyncIterator[tuple["Running", Stack]]:
    """Infrastructure of its own (under ``root/name``) and every service on it, for one step."""
    stack = Stack(StackSettings(), root / name)
    await asyncio.to_thread(stack.start)
    try:
        await asyncio.to_thread(stack.prepare)
        async with running_system(stack, logs / name) as running:
            yield running, stack
    finally:
        await asyncio.to_thread(stack.stop)
