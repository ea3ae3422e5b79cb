"""A poison inbound event goes to the dead-letter topic; `omni dlq replay` brings it back and
the worker applies it once what it needed exists."""

import asyncio
import sys
from typing import Any
from uuid import uuid4

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from bus.deadletter import REPLAY_GROUP
from bus.publisher import Publisher
from config.shared import KafkaSettings
from contracts import topics
from credentials import Vault
from tests.ingest.conftest import Integration, create_integration, eventually, fetch
from tests.ingest.events import inbound, keyed

pytestmark = pytest.mark.usefixtures("ingest_worker")


async def _dead_letter_holds(settings: KafkaSettings, marker: str) -> bool:
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


async def _not_yet_replayed(settings: KafkaSettings) -> int:
    """Dead letters the replay group has not sent back yet."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap, group_id=REPLAY_GROUP, enable_auto_commit=False
    )
    await consumer.start()
    try:
        tp = TopicPartition(topics.DEADLETTER, 0)
        end = (await consumer.end_offsets([tp]))[tp]
        committed = await consumer.committed(tp) or 0
        return int(end - committed)
    finally:
        await consumer.stop()


async def test_poison_inbound_event_is_dead_lettered_and_replayed(
    make_tenant: Any,
    owner_conn: asyncpg.Connection,
    vault: Vault,
    app_pool: asyncpg.Pool,
    kafka_settings: KafkaSettings,
    stack_env: dict[str, str],
) -> None:
    tenant_id = await make_tenant("Dead letters")
    # An event for an integration the database does not know (yet): it can never apply.
    missing = Integration(tenant_id, uuid4(), "zapi", f"z-{uuid4().hex[:8]}", "k" * 40, "v")
    async with Publisher(kafka_settings) as publisher:
        await publisher.publish_many(keyed(missing, inbound(missing, "poison-1")))
    assert await eventually(
        lambda: _dead_letter_holds(kafka_settings, "poison-1"), lambda ok: ok, timeout_s=60
    )

    await create_integration(
        owner_conn,
        vault,
        tenant_id,
        "zapi",
        missing.account,
        {"token": "t"},
        integration_id=missing.integration_id,
    )
    # Replay what is pending now (ours included). A bounded replay, because other tests'
    # poison fails again at once and would otherwise keep an idle-based replay busy.
    pending = await _not_yet_replayed(kafka_settings)
    replay = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "omnicli",
        "dlq",
        "replay",
        "--idle",
        "1",
        "--limit",
        str(pending),
        env=stack_env,
    )
    assert await asyncio.wait_for(replay.wait(), 60) == 0
    rows = await eventually(
        lambda: fetch(app_pool, tenant_id, "SELECT provider_message_id FROM messages"),
        lambda r: len(r) == 1,
    )
    assert [r["provider_message_id"] for r in rows] == ["poison-1"]
