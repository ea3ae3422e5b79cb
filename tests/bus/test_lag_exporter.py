"""Consumer lag as an operator sees it: a real ingest-worker process on its own broker, and the
lag-exporter process beside it. While the worker is frozen (SIGSTOP) the lag of its group rises
on the exporter's /metrics; once it runs again (SIGCONT) the lag falls back to 0."""

import asyncio
import os
import signal
import sys
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bus.admin import ensure_topics
from bus.publisher import Publisher
from config.shared import KafkaSettings
from credentials import Vault
from devstack.kafka import TansuBroker
from devstack.process import ManagedProcess, free_port
from tests.ingest.conftest import create_integration, eventually, fetch
from tests.ingest.events import inbound, keyed

pytestmark = pytest.mark.timeout(300)

GROUP = "ingest-worker"


@pytest.fixture
async def private_kafka(tmp_path: Path) -> AsyncIterator[KafkaSettings]:
    """A broker of this test's own: the worker is alone in its group, the lag only its own."""
    broker = TansuBroker(tmp_path)
    await asyncio.to_thread(broker.start)
    settings = KafkaSettings(bootstrap=broker.bootstrap)
    try:
        await ensure_topics(settings)
        yield settings
    finally:
        await asyncio.to_thread(broker.stop)


def _process(name: str, tmp_path: Path, env: dict[str, str]) -> tuple[ManagedProcess, int]:
    port = free_port()
    process = ManagedProcess(
        name,
        [sys.executable, "-m", "omnicli", "run", name],
        tmp_path / f"{name}.log",
        env={**env, "OPS_PORT": str(port)},
    )
    return process, port


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def _group_lag(port: int) -> int | None:
    """The group's lag summed over partitions, as scraped; None before any partition is known."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    values = [
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "kafka_consumer_group_lag"
        for sample in family.samples
        if sample.labels["group"] == GROUP
    ]
    return int(sum(values)) if values else None


async def test_lag_rises_while_the_worker_is_paused_and_falls_after(
    tmp_path: Path,
    private_kafka: KafkaSettings,
    stack_env: dict[str, str],
    make_tenant: Any,
    owner_conn: asyncpg.Connection,
    vault: Vault,
    app_pool: asyncpg.Pool,
) -> None:
    tenant_id = await make_tenant("Lag")
    integ = await create_integration(
        owner_conn, vault, tenant_id, "zapi", f"z-{uuid4().hex[:8]}", {"token": "t"}
    )
    env = {**stack_env, "KAFKA_BOOTSTRAP": private_kafka.bootstrap}
    # A session longer than the pause: the frozen worker keeps its partitions, as a stuck one
    # would until the broker gives up on it.
    worker, _ = _process("ingest-worker", tmp_path, {**env, "INGEST_SESSION_TIMEOUT_MS": "45000"})
    exporter, port = _process("lag-exporter", tmp_path, {**env, "LAG_INTERVAL_S": "0.5"})

    async def lag() -> int | None:
        return await asyncio.to_thread(_group_lag, port)

    async def stored() -> int:
        rows = await fetch(app_pool, tenant_id, "SELECT count(*) AS n FROM messages")
        return int(rows[0]["n"])

    worker.start()
    exporter.start()
    paused = False
    try:
        await asyncio.to_thread(exporter.wait_until, lambda: _ready(port), 60)
        async with Publisher(private_kafka) as publisher:
            await publisher.publish_many(
                keyed(integ, *(inbound(integ, f"w-{n}") for n in range(5)))
            )
            assert await eventually(stored, lambda n: n == 5, timeout_s=60) == 5
            assert await eventually(lag, lambda v: v == 0, timeout_s=30) == 0

            assert worker.pid is not None
            os.kill(worker.pid, signal.SIGSTOP)
            paused = True
            for n in range(30):  # one record a publish: each a batch of its own on the broker
                await publisher.publish_many(keyed(integ, inbound(integ, f"p-{n}")))
            risen = await eventually(lag, lambda v: v is not None and v >= 30, timeout_s=30)
            assert risen is not None and risen >= 30, f"lag while paused: {risen}"
            await asyncio.sleep(1.5)  # several readings later, nothing has moved it back
            assert (await lag() or 0) >= 30

            os.kill(worker.pid, signal.SIGCONT)
            paused = False
            assert await eventually(lag, lambda v: v == 0, timeout_s=60) == 0
            assert await eventually(stored, lambda n: n == 35, timeout_s=30) == 35
    finally:
        if paused and worker.pid is not None:
            os.kill(worker.pid, signal.SIGCONT)
        worker.stop()
        exporter.stop()
