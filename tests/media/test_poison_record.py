"""A request that kills the media-worker every time it is handled (here: SIGKILL while its
download is in progress, as the kernel's OOM killer would) is set aside as a dead letter after
``max_deliveries`` (3) unfinished starts, counted in Postgres across the restarts, and the
worker goes on with the next requests instead of crash-looping."""

import asyncio
import subprocess
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from bus.deliveries import RecordId
from bus.publisher import Publisher
from config.shared import KafkaSettings
from contracts import MediaRef, MessageType, Provider, topics
from contracts.codec import decode
from credentials import Vault
from media.worker import GROUP
from simulator import media as sim_media
from simulator.control import SimControl
from simulator.server import RunningSimulator
from tests.media import rows
from tests.media.conftest import credentials_for, sim_exemption
from tests.media.processes import log_tail, ready, spawn_worker, stop, wait_state

MakeTenant = Callable[..., Any]
MAX_DELIVERIES = 3  # the media-worker's setting


@pytest.fixture
def worker_env(stack_env: dict[str, str], media_sim: RunningSimulator) -> dict[str, str]:
    return {
        **stack_env,
        "PROVIDER_EGRESS_ALLOW": sim_exemption(media_sim),
        # The held download must outlast the kill, never time out first.
        "MEDIA_READ_TIMEOUT_S": "120",
    }


@pytest.fixture
def workers() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        stop(process)


async def _message(
    pool: asyncpg.Pool,
    vault: Vault,
    tenant_id: UUID,
    control: SimControl,
    provider: Provider,
    media_id: str,
) -> rows.Inbound:
    account = f"acct-{uuid4().hex[:12]}"
    await control.register(provider, account, access_token="tok")
    integration_id = await rows.integration(
        pool,
        vault,
        tenant_id,
        provider=provider,
        base_url=control.base_url,
        credentials=credentials_for(provider.value, account),
        account=account,
    )
    return await rows.inbound_media(
        pool,
        tenant_id,
        integration_id,
        provider=provider,
        message_type=MessageType.DOCUMENT,
        ref=MediaRef(provider_ref=media_id, mime="application/pdf"),
    )


async def _starts(pool: asyncpg.Pool, record: RecordId) -> int:
    """The poison record's unfinished starts. Only its own: earlier tests of the run leave rows
    of this group behind (workers they killed mid-batch), and counting those let the test kill
    a worker before it had even fetched the poison."""
    topic, partition, offset = record
    found = await pool.fetchval(
        "SELECT deliveries FROM consumer_deliveries WHERE consumer_group = $1"
        ' AND topic = $2 AND partition = $3 AND "offset" = $4',
        GROUP,
        topic,
        partition,
        offset,
    )
    return int(found or 0)


async def _wait_starts(
    pool: asyncpg.Pool, record: RecordId, at_least: int, *, at_most: int | None = None
) -> None:
    """Until the count is in ``[at_least, at_most]``; a new member may first wait out the
    killed one's session at the broker."""
    async with asyncio.timeout(180):
        while True:
            starts = await _starts(pool, record)
            if starts >= at_least and (at_most is None or starts <= at_most):
                return
            await asyncio.sleep(0.1)


async def _ends(settings: KafkaSettings, topic: str) -> dict[TopicPartition, int]:
    """Where each partition of ``topic`` ends now (at or before: the embedded broker's answer
    can fall short of the last batch), so what the test publishes is looked for after it."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap, group_id=None)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return {tp: int(end) for tp, end in (await consumer.end_offsets(partitions)).items()}
    finally:
        await consumer.stop()


async def _published(
    settings: KafkaSettings, ends: dict[TopicPartition, int], key: str
) -> RecordId:
    """Where the record keyed ``key`` landed, read back after ``ends``."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap, group_id=None)
    await consumer.start()
    try:
        consumer.assign(list(ends))
        for tp, end in ends.items():
            consumer.seek(tp, end)
        async with asyncio.timeout(60):
            while True:
                for tp, records in (await consumer.getmany(timeout_ms=300)).items():
                    for record in records:
                        if record.key == key.encode():
                            return (tp.topic, tp.partition, record.offset)
    finally:
        await consumer.stop()


async def _dead_letter_for(
    settings: KafkaSettings,
    message_id: UUID,
    after: dict[TopicPartition, int],
    worker: subprocess.Popen[bytes],
) -> Any:
    """Read from ``after``, not from the start: late in a full run the topic holds every
    earlier test's letters, and the embedded broker's fetches cost more the more it holds."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap, group_id=None)
    await consumer.start()
    try:
        consumer.assign(list(after))
        for tp, end in after.items():
            consumer.seek(tp, end)
        async with asyncio.timeout(180):
            while True:
                for records in (await consumer.getmany(timeout_ms=300)).values():
                    for record in records:
                        letter = decode(topics.DEADLETTER, record.value)
                        if str(message_id) in letter.value and letter.consumer_group == GROUP:
                            return letter
    except TimeoutError:
        tail = log_tail(worker)
        raise AssertionError(f"no dead letter; the worker's log ends:\n{tail}") from None
    finally:
        await consumer.stop()


@pytest.mark.timeout(600)
async def test_a_request_that_kills_the_worker_is_dead_lettered_after_three_starts(
    worker_env: dict[str, str],
    workers: list[subprocess.Popen[bytes]],
    sim_control: SimControl,
    app_pool: asyncpg.Pool,
    vault: Vault,
    kafka_settings: KafkaSettings,
    publisher: Publisher,
    make_tenant: MakeTenant,
) -> None:
    tenant_id = await make_tenant()
    poison_id = sim_media.media_id("application/pdf", 10_000, f"poison-{tenant_id}")
    poison = await _message(app_pool, vault, tenant_id, sim_control, Provider.EVOLUTION, poison_id)
    # Evolution's media answers hang, so the worker is always mid-download when it is killed.
    await sim_control.fault(
        "slow", provider=Provider.EVOLUTION, endpoint="media", times=None, delay_s=30
    )
    letters = await _ends(kafka_settings, topics.DEADLETTER)
    requests = await _ends(kafka_settings, topics.MEDIA)
    await publisher.publish(topics.MEDIA, poison.request(), key=str(poison.message_id))
    record = await _published(kafka_settings, requests, str(poison.message_id))

    for start in range(1, MAX_DELIVERIES + 1):
        process, ops_port = spawn_worker(worker_env)
        workers.append(process)
        await ready(ops_port, process)
        await _wait_starts(app_pool, record, start)
        process.kill()  # dies handling it, like an out-of-memory kill
        await asyncio.to_thread(process.wait, 10)

    process, ops_port = spawn_worker(worker_env)
    workers.append(process)
    await ready(ops_port, process)
    letter = await _dead_letter_for(kafka_settings, poison.message_id, letters, process)
    assert letter.source_topic == topics.MEDIA
    assert letter.attempts == MAX_DELIVERIES
    assert "poison record" in letter.error

    # The worker is not stuck: the next request is handled, and nothing is left in flight.
    await sim_control.clear_faults()
    next_id = sim_media.media_id("application/pdf", 20_000, f"after-{tenant_id}")
    after = await _message(app_pool, vault, tenant_id, sim_control, Provider.META, next_id)
    await publisher.publish(topics.MEDIA, after.request(), key=str(after.message_id))
    assert (await wait_state(app_pool, after))["media_state"] == "stored"
    assert process.poll() is None
    await _wait_starts(app_pool, record, 0, at_most=0)
    # Set aside, not failed: a dead-letter replay can still bring it in.
    poison_row = await rows.message_row(app_pool, tenant_id, poison.message_id)
    assert poison_row["media_state"] == "pending"
