"""The ingest-worker process SIGKILLed again and again while 2,000 events flow: after a restart
every message exists exactly once and the conversation counters counted each once.

Runs on a private broker, so the worker under test is alone in its consumer group."""

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from bus.admin import ensure_topics
from bus.publisher import Outgoing, Publisher
from config.shared import KafkaSettings
from contracts import topics
from credentials import Vault
from devstack.kafka import TansuBroker
from devstack.process import ManagedProcess, free_port
from tests.ingest.conftest import Integration, create_integration, eventually, fetch
from tests.ingest.events import inbound

TOTAL = 2000
CHATS = 20


@pytest.fixture
async def private_kafka(tmp_path: Path) -> AsyncIterator[KafkaSettings]:
    broker = TansuBroker(tmp_path)
    await asyncio.to_thread(broker.start)
    settings = KafkaSettings(bootstrap=broker.bootstrap)
    try:
        await ensure_topics(settings)
        yield settings
    finally:
        await asyncio.to_thread(broker.stop)


def _worker(tmp_path: Path, env: dict[str, str], kafka: KafkaSettings) -> ManagedProcess:
    return ManagedProcess(
        "ingest-worker",
        [sys.executable, "-m", "omnicli", "run", "ingest-worker"],
        tmp_path / "worker.log",
        env={**env, "KAFKA_BOOTSTRAP": kafka.bootstrap, "OPS_PORT": str(free_port())},
    )


async def test_worker_killed_repeatedly_loses_and_duplicates_nothing(
    tmp_path: Path,
    private_kafka: KafkaSettings,
    stack_env: dict[str, str],
    make_tenant: Any,
    owner_conn: asyncpg.Connection,
    vault: Vault,
    app_pool: asyncpg.Pool,
) -> None:
    tenant_id = await make_tenant("Crash")
    integ: Integration = await create_integration(
        owner_conn, vault, tenant_id, "evolution", f"inst-{uuid4().hex[:10]}", {"api_key": "k"}
    )
    events = [
        Outgoing(
            topics.INBOUND,
            f"{tenant_id}:{integ.integration_id}:chat-{i % CHATS}",
            inbound(integ, f"crash-{i}", chat=f"chat-{i % CHATS}", seconds=i),
        )
        for i in range(TOTAL)
    ]
    worker = _worker(tmp_path, stack_env, private_kafka)
    worker.start()
    try:
        async with Publisher(private_kafka) as publisher:
            for round_ in range(5):
                chunk = events[round_ * TOTAL // 5 : (round_ + 1) * TOTAL // 5]
                for start in range(0, len(chunk), 100):
                    await publisher.publish_many(chunk[start : start + 100])
                    await asyncio.sleep(0.05)
                await asyncio.sleep(0.5 + round_ * 0.3)  # let it get mid-batch, then kill it
                worker.kill()
                worker.start()

        async def count() -> int:
            rows = await fetch(
                app_pool,
                tenant_id,
                "SELECT count(*) AS n FROM messages WHERE integration_id = $1",
                integ.integration_id,
            )
            return int(rows[0]["n"])

        assert await eventually(count, lambda n: n >= TOTAL, timeout_s=90) == TOTAL
    finally:
        worker.stop()

    rows = await fetch(
        app_pool,
        tenant_id,
        "SELECT count(DISTINCT provider_message_id) AS ids, count(*) AS n FROM messages",
    )
    assert rows[0]["ids"] == TOTAL and rows[0]["n"] == TOTAL
    unread = await fetch(app_pool, tenant_id, "SELECT sum(unread_count) AS s FROM conversations")
    assert unread[0]["s"] == TOTAL  # counters moved once per message, despite redeliveries
