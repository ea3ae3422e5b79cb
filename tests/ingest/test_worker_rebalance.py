"""ingest-worker's group rebalanced 20 times under load (a second member joining and leaving
while events flow): the first worker never crashes (a commit refused by a rebalance is not
fatal), and every message is stored once."""

import asyncio
from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from bus.consumer import BatchConsumer, ConsumerOptions
from bus.publisher import Publisher
from config.shared import DatabaseSettings, KafkaSettings
from contracts import topics
from credentials import Vault
from db.pool import create_pool
from devstack.process import free_port
from ingest import worker
from ingest.settings import IngestSettings
from tests.ingest.conftest import create_integration, eventually, fetch
from tests.ingest.events import inbound, keyed

REBALANCES = 20
EVENTS = 1000

pytestmark = pytest.mark.timeout(600)


async def test_twenty_rebalances_under_load_crash_nothing_and_lose_nothing(
    db_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    vault: Vault,
    make_tenant: Any,
    owner_conn: asyncpg.Connection,
    app_pool: asyncpg.Pool,
) -> None:
    tenant_id = await make_tenant("Rebalances")
    integ = await create_integration(
        owner_conn, vault, tenant_id, "zapi", f"z-{uuid4().hex[:8]}", {"token": "t"}
    )
    settings = IngestSettings(OPS_PORT=free_port(), session_timeout_ms=6000)  # type: ignore[call-arg]
    stop_first = asyncio.Event()
    first = asyncio.create_task(worker.run(settings, db_settings, kafka_settings, stop_first))
    pool = await create_pool(db_settings)
    try:
        async with Publisher(kafka_settings) as publisher:

            async def flow() -> None:
                for start in range(0, EVENTS, 25):
                    batch = [inbound(integ, f"rb-{n}") for n in range(start, start + 25)]
                    await publisher.publish_many(keyed(integ, *batch))
                    await asyncio.sleep(0.1)

            async def churn() -> None:
                """A second member joins and leaves: two rebalances each time."""
                for _ in range(REBALANCES // 2):
                    second = BatchConsumer(
                        kafka_settings,
                        [topics.INBOUND],
                        worker.persist_handler(
                            pool, publisher, concurrency=2, group=settings.group_id
                        ),
                        publisher,
                        ConsumerOptions(
                            group_id=settings.group_id,
                            extra={"session_timeout_ms": 6000, "heartbeat_interval_ms": 1000},
                        ),
                    )
                    stop_second = asyncio.Event()
                    await second.start()
                    running = asyncio.create_task(second.run(stop_second))
                    await asyncio.sleep(2.0)
                    stop_second.set()
                    await asyncio.wait_for(running, 60)
                    await second.stop()
                    assert not first.done(), first.exception() if first.done() else ""

            await asyncio.gather(flow(), churn())
            rows = await eventually(
                lambda: fetch(app_pool, tenant_id, "SELECT provider_message_id FROM messages"),
                lambda r: len(r) >= EVENTS,
                timeout_s=180,
            )
        assert not first.done(), "the worker stopped during the rebalances"
    finally:
        stop_first.set()
        await asyncio.wait_for(first, 60)
        await pool.close()
    ids = [r["provider_message_id"] for r in rows]
    assert len(ids) == len(set(ids)) == EVENTS
