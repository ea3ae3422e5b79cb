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
from tests.media.processes import ready, spawn_worker, stop, wait_state

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


async def _starts(pool: asyncpg.Pool) -> int:
    """The most unfinished starts of any media-worker record in flight."""
    found = await pool.fetchval(
        "SELECT max(deliveries) FROM consumer_deliveries WHERE consumer_group = $1", GROUP
    )
    return int(found or 0)


async def _wait_starts(pool: asyncpg.Pool, at_least: int, *, at_most: int | None = None) -> None:
    """Until the count is in ``[at_least, at_most]``; a new member may first wait out the
    killed one's session at the broker."""
    async with asyncio.timeout(120):
        while True:
            starts = await _starts(pool)
            if starts >= at_least and (at_most is None or starts <= at_most):
                return
            await asyncio.sleep(0.1)


async def _dead_letter_end(settings: KafkaSettings) -> int:
    """Where the dead-letter topic ends now (at or before: the embedded broker's answer can
    fall short of the last batch), so the letter is looked for after it."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap, group_id=None)
    await consumer.start()
    try:
        tp = TopicPartition(topics.DEADLETTER, 0)
        return int((await consumer.end_offsets([tp]))[tp])
    finally:
        await consumer.stop()


async def _dead_letter_for(settings: KafkaSettings, message_id: UUID, after: int) -> Any:
    """Read from ``after``, not from the start: late in a full run the topic holds every
    earlier test's letters, and the embedded broker's fetches cost more the more it holds."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap, group_id=None)
    await consumer.start()
    try:
        tp = TopicPartition(topics.DEADLETTER, 0)
        consumer.assign([tp])
        consumer.seek(tp, after)
        async with asyncio.timeout(120):
            while True:
                for records in (await consumer.getmany(timeout_ms=300)).values():
                    for record in records:
                        letter = decode(topics.DEADLETTER, record.value)
                        if str(message_id) in letter.value and letter.consumer_group == GROUP:
                            return letter
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
    letters_end = await _dead_letter_end(kafka_settings)
    await publisher.publish(topics.MEDIA, poison.request(), key=str(poison.message_id))

    for start in range(1, MAX_DELIVERIES + 1):
        process, ops_port = spawn_worker(worker_env)
        workers.append(process)
        await ready(ops_port, process)
        await _wait_starts(app_pool, start)
        process.kill()  # dies handling it, like an out-of-memory kill
        await asyncio.to_thread(process.wait, 10)

    process, ops_port = spawn_worker(worker_env)
    workers.append(process)
    await ready(ops_port, process)
    letter = await _dead_letter_for(kafka_settings, poison.message_id, letters_end)
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
    await _wait_starts(app_pool, 0, at_most=0)
    # Set aside, not failed: a dead-letter replay can still bring it in.
    poison_row = await rows.message_row(app_pool, tenant_id, poison.message_id)
    assert poison_row["media_state"] == "pending"
