"""The ingest-worker process SIGKILLed again and again while 2,000 signed webhooks flow from
the provider simulator through ingest-api: after a restart every message exists exactly once
and the conversation counters counted each once.

Runs on a private broker, so the worker under test is alone in its consumer group."""

import asyncio
import random
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bus.admin import ensure_topics
from config.shared import DatabaseSettings, KafkaSettings
from contracts import Provider
from credentials import Vault
from devstack.kafka import TansuBroker
from devstack.process import ManagedProcess, free_port
from simulator.control import SimControl
from simulator.server import running
from tests.ingest.api_fixtures import api_settings, serving, wire
from tests.ingest.conftest import eventually, fetch

TOTAL = 2000
KILLS = 4


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
        env={
            **env,
            "KAFKA_BOOTSTRAP": kafka.bootstrap,
            "OPS_PORT": str(free_port()),
            "INGEST_SESSION_TIMEOUT_MS": "2000",
        },
    )


async def test_worker_killed_repeatedly_loses_and_duplicates_nothing(
    tmp_path: Path,
    private_kafka: KafkaSettings,
    stack_env: dict[str, str],
    db_settings: DatabaseSettings,
    make_tenant: Any,
    owner_conn: asyncpg.Connection,
    vault: Vault,
    app_pool: asyncpg.Pool,
) -> None:
    tenant_id = await make_tenant("Crash")

    async def count() -> int:
        rows = await fetch(app_pool, tenant_id, "SELECT count(*) AS n FROM messages")
        return int(rows[0]["n"])

    worker = _worker(tmp_path, stack_env, private_kafka)
    worker.start()
    kills = 0
    try:
        with running() as sim_server:
            async with (
                # A generous ack wait: a 503 here would be right (the provider retries) but the
                # simulator does not retry, and the 2-core box is busy with the whole suite.
                serving(
                    api_settings(publish_timeout_s=15.0), db_settings, private_kafka, vault
                ) as api,
                SimControl(sim_server.base_url) as sim,
            ):
                wired = await wire(owner_conn, vault, sim, api.url, tenant_id, Provider.EVOLUTION)
                flow = asyncio.create_task(
                    sim.drive(
                        count=TOTAL,
                        rate_per_s=250,
                        provider=Provider.EVOLUTION,
                        account_id=wired.integ.account,
                        customers=20,
                    )
                )
                while kills < KILLS:
                    # Kill only a worker that is busy committing, at a random point of a batch.
                    before = await count()
                    await eventually(count, lambda n, b=before: n > b, timeout_s=30)  # type: ignore[misc]
                    await asyncio.sleep(random.uniform(0.05, 0.4))
                    worker.kill()
                    kills += 1
                    worker.start()
                outcome = await flow
        assert outcome == {"posted": TOTAL, "accepted": TOTAL, "refused": 0}

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
    logs = await fetch(app_pool, tenant_id, "SELECT count(*) AS n FROM webhook_logs")
    assert logs[0]["n"] == TOTAL
