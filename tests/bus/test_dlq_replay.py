"""`omni dlq replay` against the real broker: each dead letter goes back once, even when two
replays run at once, and its key and value go back byte for byte."""

import asyncio
from uuid import uuid4

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bus.deadletter import dead_letter, one_replay_at_a_time, replay
from bus.publisher import Publisher
from bus.rounds import RoundPublisher
from config.shared import KafkaSettings
from devstack.stack import Endpoints


async def _scratch_topic(settings: KafkaSettings) -> str:
    """A source topic of this test alone, so what lands there is only what the replay sent."""
    name = f"test.replay.{uuid4().hex[:12]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 3, 1)])
    finally:
        await admin.close()
    return name


async def _landed(settings: KafkaSettings, topic: str, quiet_s: float = 3.0) -> list[tuple]:
    """(key, value) of every record on ``topic``, read until it has been quiet a while."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=settings.bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    out: list[tuple] = []
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=int(quiet_s * 1000))
            if not batches:
                return out
            out += [(r.key, r.value) for records in batches.values() for r in records]
    finally:
        await consumer.stop()


async def _dead_letter(settings: KafkaSettings, topic: str, items: list[tuple]) -> None:
    async with Publisher(settings) as publisher:
        await publisher.publish_many(
            [
                dead_letter(
                    source_topic=topic,
                    group="test",
                    key=key,
                    value=value,
                    headers={"x-test": "1"},
                    error="boom",
                    attempts=5,
                )
                for key, value in items
            ]
        )


async def _replay_all(settings: KafkaSettings, database_url: str) -> int:
    """What ``omni dlq replay`` does: under the replay lock."""
    async with one_replay_at_a_time(database_url), RoundPublisher(settings) as publisher:
        return (await replay(settings, publisher, idle_s=3.0)).replayed


async def test_two_replays_at_once_send_each_letter_once_and_bytes_stay_exact(
    kafka_settings: KafkaSettings, stack: Endpoints
) -> None:
    database = stack.app_database_url
    topic = await _scratch_topic(kafka_settings)
    items = [(f"k{i}".encode(), f'{{"n": {i}}}'.encode()) for i in range(150)]
    # Not UTF-8 (a Latin-1 body, a truncated multi-byte sequence): must come back unchanged.
    items += [(b"\xff\xfekey", b"caf\xe9 \x00\x01"), (None, b"\xe2\x82")]
    await _dead_letter(kafka_settings, topic, items)

    counts = await asyncio.gather(
        _replay_all(kafka_settings, database), _replay_all(kafka_settings, database)
    )
    # Whatever else sat in the dead-letter topic went back too; ours went back once each.
    landed = await _landed(kafka_settings, topic)
    assert sorted(landed, key=repr) == sorted(items, key=repr)
    assert sum(counts) >= len(items)

    # A third replay finds nothing of ours left to send.
    await _replay_all(kafka_settings, database)
    assert len(await _landed(kafka_settings, topic, quiet_s=1.0)) == len(items)
