"""Fixtures for ingest tests: integrations of fresh tenants, an in-process ingest-worker on the
session broker, and helpers to wait for rows and realtime records."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer

from config.shared import DatabaseSettings, KafkaSettings
from contracts import topics
from contracts.codec import decode
from credentials import Vault
from db.provision import insert_integration
from db.tenant import tenant_tx
from devstack.process import free_port
from ingest import worker
from ingest.settings import IngestSettings

T = TypeVar("T")


@dataclass(frozen=True)
class Integration:
    tenant_id: UUID
    integration_id: UUID
    provider: str
    account: str
    webhook_key: str
    verify_token: str


async def create_integration(
    owner_conn: asyncpg.Connection,
    vault: Vault,
    tenant_id: UUID,
    provider: str,
    account: str,
    credentials: dict[str, Any],
    api_base_url: str | None = None,
    integration_id: UUID | None = None,
) -> Integration:
    async with owner_conn.transaction():
        await owner_conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant_id))
        row = await insert_integration(
            owner_conn,
            vault,
            tenant_id=tenant_id,
            provider=provider,
            external_account_id=account,
            credentials=credentials,
            api_base_url=api_base_url,
            integration_id=integration_id,
        )
    return Integration(
        tenant_id, row["id"], provider, account, row["webhook_key"], row["verify_token"]
    )


@pytest.fixture(scope="module")
async def ingest_worker(
    db_settings: DatabaseSettings, kafka_settings: KafkaSettings
) -> AsyncIterator[None]:
    """ingest-worker in this process, consuming the session's inbound topic. Per module, so it
    is not running (and dead-lettering other areas' broken records) while other areas test."""
    settings = IngestSettings(OPS_PORT=free_port(), reconcile_interval_s=0.5)  # type: ignore[call-arg]
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(settings, db_settings, kafka_settings, stop))
    yield
    stop.set()
    await asyncio.wait_for(task, 30)


async def eventually(
    probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], timeout_s: float = 30
) -> T:
    """Poll ``probe`` until ``done`` holds for its value (returns it) or fail with the last."""
    value = await probe()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout_s):
            while not done(value):
                await asyncio.sleep(0.2)
                value = await probe()
    return value


async def fetch(pool: asyncpg.Pool, tenant_id: UUID, sql: str, *args: Any) -> list[asyncpg.Record]:
    async with tenant_tx(pool, tenant_id) as conn:
        return list(await conn.fetch(sql, *args))


async def realtime_for(
    settings: KafkaSettings,
    tenant_id: UUID,
    until: Callable[[list[Any]], bool],
    timeout_s: float = 20,
) -> list[Any]:
    """Realtime events keyed by ``tenant_id`` read from the start of the topic until ``until``."""
    consumer = AIOKafkaConsumer(
        topics.REALTIME,
        bootstrap_servers=settings.bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    found: list[Any] = []
    key = str(tenant_id).encode()
    try:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                while not until(found):
                    for records in (await consumer.getmany(timeout_ms=300)).values():
                        found += [decode(topics.REALTIME, r.value) for r in records if r.key == key]
    finally:
        await consumer.stop()
    return found
