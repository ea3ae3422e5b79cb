"""A poison inbound event goes to the dead-letter topic; `omni dlq replay` brings it back and
the worker applies it once what it needed exists."""

import asyncio
import sys
from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from bus.publisher import Publisher
from config.shared import KafkaSettings
from credentials import Vault
from tests.ingest.conftest import Integration, create_integration, eventually, fetch
from tests.ingest.events import inbound, keyed

pytestmark = pytest.mark.usefixtures("ingest_worker")


async def test_poison_inbound_event_is_dead_lettered_and_replayed(
    make_tenant: Any,
    owner_conn: asyncpg.Connection,
    vault: Vault,
    app_pool: asyncpg.Pool,
    kafka_settings: KafkaSettings,
    stack_env: dict[str, str],
) -> None:
    tenant_id = await make_tenant("Dead letters")
    # An event for an integration the database does not know (yet): every attempt fails.
    missing = Integration(tenant_id, uuid4(), "zapi", f"z-{uuid4().hex[:8]}", "k" * 40, "v")
    async with Publisher(kafka_settings) as publisher:
        await publisher.publish_many(keyed(missing, inbound(missing, "poison-1")))

    async def replay_dead_letters() -> bool:
        replay = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "omnicli", "dlq", "replay", "--idle", "1", env=stack_env
        )
        return await replay.wait() == 0

    # Wait until the worker gave up on it, then create the integration and replay.
    found = await eventually(
        lambda: _dead_letter_holds(kafka_settings, "poison-1"), lambda ok: ok, timeout_s=60
    )
    assert found
    await create_integration(
        owner_conn,
        vault,
        tenant_id,
        "zapi",
        missing.account,
        {"token": "t"},
        integration_id=missing.integration_id,
    )
    assert await replay_dead_letters()
    rows = await eventually(
        lambda: fetch(app_pool, tenant_id, "SELECT provider_message_id FROM messages"),
        lambda r: len(r) == 1,
    )
    assert [r["provider_message_id"] for r in rows] == ["poison-1"]


async def _dead_letter_holds(settings: KafkaSettings, marker: str) -> bool:
    from aiokafka import AIOKafkaConsumer

    from contracts import topics

    consumer = AIOKafkaConsumer(
        topics.DEADLETTER,
        bootstrap_servers=settings.bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        for records in (await consumer.getmany(timeout_ms=1000, max_records=10_000)).values():
            if any(marker.encode() in r.value for r in records):
                return True
        return False
    finally:
        await consumer.stop()
