"""The batching publisher against the real broker: many concurrent callers, every record
acknowledged once, each key on Kafka's default partition and in the order it was published."""

import asyncio
from collections import defaultdict
from uuid import UUID

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.partitioner import DefaultPartitioner
from pydantic import ValidationError

from bus.publisher import Outgoing, Publisher
from bus.rounds import RoundPublisher
from config.shared import KafkaSettings
from contracts import MediaFetchRequested, topics
from contracts.codec import decode
from tests.bus.test_consumer import _media_events

KEYS, CALLS, PER_CALL = 40, 5, 2


async def _read_back(settings: KafkaSettings, ids: set[UUID]) -> dict[UUID, tuple[int, int, str]]:
    """event id → (partition, offset, key) for each of ``ids`` found on the media topic."""
    consumer = AIOKafkaConsumer(
        topics.MEDIA,
        bootstrap_servers=settings.bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    found: dict[UUID, tuple[int, int, str]] = {}
    try:
        async with asyncio.timeout(30):
            while len(found) < len(ids):
                for records in (await consumer.getmany(timeout_ms=300)).values():
                    for r in records:
                        try:
                            event = decode(topics.MEDIA, r.value)
                        except ValidationError:
                            continue  # other tests' deliberate poison records
                        if event.event_id in ids:
                            assert event.event_id not in found, "a record was published twice"
                            found[event.event_id] = (r.partition, r.offset, r.key.decode())
    finally:
        await consumer.stop()
    return found


BOTH = pytest.mark.parametrize("kind", [Publisher, RoundPublisher])


@BOTH
async def test_concurrent_callers_each_key_in_order_on_its_partition(
    kafka_settings: KafkaSettings, kind: type[Publisher] | type[RoundPublisher]
) -> None:
    events = iter(_media_events(KEYS * CALLS * PER_CALL))
    sent: dict[str, list[MediaFetchRequested]] = defaultdict(list)

    async def one_conversation(publisher: Publisher | RoundPublisher, key: str) -> None:
        for _ in range(CALLS):  # each call returns only after its ack, then the next follows
            batch = [next(events) for _ in range(PER_CALL)]
            sent[key] += batch
            await publisher.publish_many([Outgoing(topics.MEDIA, key, e) for e in batch])

    async with kind(kafka_settings) as publisher:
        await asyncio.gather(*(one_conversation(publisher, f"conv-{k}") for k in range(KEYS)))

    ids = {e.event_id for batch in sent.values() for e in batch}
    found = await _read_back(kafka_settings, ids)
    partitions = list(range(topics.BY_NAME[topics.MEDIA].partitions))
    for key, published in sent.items():
        places = [found[e.event_id] for e in published]
        assert {p for p, _, _ in places} == {
            DefaultPartitioner()(key.encode(), partitions, partitions)
        }
        assert [o for _, o, _ in places] == sorted(o for _, o, _ in places), key
        assert {k for _, _, k in places} == {key}


@BOTH
async def test_stop_still_delivers_what_callers_handed_over(
    kafka_settings: KafkaSettings, kind: type[Publisher] | type[RoundPublisher]
) -> None:
    publisher = kind(kafka_settings)
    await publisher.start()
    events = _media_events(30)
    calls = [
        asyncio.create_task(publisher.publish(topics.MEDIA, e, key=str(e.message_id)))
        for e in events
    ]
    await asyncio.sleep(0)  # every caller has queued its record
    await publisher.stop()

    assert all(c.done() and c.exception() is None for c in calls)
    assert len(await _read_back(kafka_settings, {e.event_id for e in events})) == 30


async def test_a_lingering_round_goes_as_soon_as_it_has_enough_callers(
    kafka_settings: KafkaSettings,
) -> None:
    events = _media_events(4)
    async with RoundPublisher(kafka_settings, linger_s=60, small_round=4) as publisher:
        # A round of one would wait the whole minute; four together are enough to go at once.
        async with asyncio.timeout(15):
            await asyncio.gather(
                *(publisher.publish(topics.MEDIA, e, key=str(e.message_id)) for e in events)
            )
    assert len(await _read_back(kafka_settings, {e.event_id for e in events})) == 4
