"""FastStream subscriptions under the project's run contract, against the real broker: a batch
handler's failure stops the consumer with nothing committed, so the next one gets it all."""

import asyncio
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bus.stream import Batches, Subscription, SubscriptionOptions
from config.shared import KafkaSettings


async def _topic_with(settings: KafkaSettings, values: list[bytes]) -> str:
    topic = f"test.stream.{uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value)
    finally:
        await producer.stop()
    return topic


def _subscription(settings: KafkaSettings, topic: str, group: str, handler) -> Subscription:  # type: ignore[no-untyped-def]
    return Subscription(
        settings,
        [topic],
        handler,
        SubscriptionOptions(group_id=group),
        loop_name=f"test {group}",
        stall_s=60,
    )


async def test_a_failed_batch_stops_the_consumer_and_stays_uncommitted(
    kafka_settings: KafkaSettings,
) -> None:
    values = [f"v{i}".encode() for i in range(5)]
    topic = await _topic_with(kafka_settings, values)
    group = f"test-{uuid4().hex[:8]}"

    async def failing(consumer: AIOKafkaConsumer, batches: Batches) -> None:
        raise RuntimeError("the broker went away mid-commit")

    first = _subscription(kafka_settings, topic, group, failing)
    await first.start()
    try:
        with pytest.raises(RuntimeError, match="mid-commit"):
            await asyncio.wait_for(first.run(asyncio.Event()), 60)
    finally:
        await first.stop()

    seen: list[bytes] = []
    all_seen = asyncio.Event()

    async def collecting(consumer: AIOKafkaConsumer, batches: Batches) -> None:
        seen.extend(r.value for records in batches.values() for r in records)
        await consumer.commit()
        if len(seen) >= len(values):
            all_seen.set()

    second = _subscription(kafka_settings, topic, group, collecting)
    await second.start()
    stop = asyncio.Event()
    running = asyncio.create_task(second.run(stop))
    try:
        await asyncio.wait_for(all_seen.wait(), 60)
    finally:
        stop.set()
        await running
        await second.stop()
    assert seen == values  # every record again, in order, once
