"""The batch consumer against the real broker: commit after the effect, dead letters, replay."""

import asyncio
from collections.abc import Sequence
from uuid import uuid4

from aiokafka import AIOKafkaConsumer

from bus.consumer import BatchConsumer, ConsumerOptions, Received
from bus.deadletter import replay
from bus.publisher import Outgoing, Publisher
from bus.rounds import RoundPublisher
from config.shared import KafkaSettings
from contracts import MediaFetchRequested, topics
from contracts.codec import decode
from tests.contracts.samples import all_events


def _media_events(n: int) -> list[MediaFetchRequested]:
    template = next(e for t, e in all_events() if t == topics.MEDIA)
    assert isinstance(template, MediaFetchRequested)
    return [
        template.model_copy(update={"event_id": uuid4(), "message_id": uuid4()}) for _ in range(n)
    ]


async def _dead_letters_for(settings: KafkaSettings, ids: set[str]) -> dict[str, str]:
    """value → error of the dead letters whose original event id is in ``ids``."""
    consumer = AIOKafkaConsumer(
        topics.DEADLETTER,
        bootstrap_servers=settings.bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    found: dict[str, str] = {}
    try:
        async with asyncio.timeout(20):
            while len(found) < len(ids):
                for records in (await consumer.getmany(timeout_ms=300)).values():
                    for record in records:
                        letter = decode(topics.DEADLETTER, record.value)
                        for event_id in ids:
                            if event_id in letter.value:
                                found[event_id] = letter.error
    finally:
        await consumer.stop()
    return found


async def test_poison_records_are_dead_lettered_and_the_rest_is_handled_once(
    kafka_settings: KafkaSettings,
) -> None:
    events = _media_events(20)
    poison = events[7]
    handled: list[str] = []
    all_handled = asyncio.Event()

    async def handler(batch: Sequence[Received]) -> None:
        if any(r.event.event_id == poison.event_id for r in batch):
            raise RuntimeError("cannot handle this one")
        handled.extend(str(r.event.message_id) for r in batch)
        if len(set(handled)) >= len(events) - 1:
            all_handled.set()

    group = f"test-{uuid4().hex[:8]}"
    async with Publisher(kafka_settings) as publisher:
        # Use a private topic-like key space: the media topic, filtered by our own ids.
        await publisher.publish_many([Outgoing(topics.MEDIA, str(e.message_id), e) for e in events])
        async with RoundPublisher(kafka_settings) as raw:
            await raw.publish_raw(topics.MEDIA, b"{not json", b"k", [])
        ours = {str(e.message_id) for e in events}

        async def only_ours(batch: Sequence[Received]) -> None:
            await handler([r for r in batch if str(r.event.message_id) in ours])

        consumer = BatchConsumer(
            kafka_settings,
            [topics.MEDIA],
            only_ours,
            publisher,
            ConsumerOptions(group_id=group, max_attempts=2, retry_initial_s=0.01, retry_max_s=0.02),
        )
        await consumer.start()
        stop = asyncio.Event()
        task = asyncio.create_task(consumer.run(stop))
        try:
            await asyncio.wait_for(all_handled.wait(), 30)
        finally:
            stop.set()
            await task
            await consumer.stop()

    assert sorted(set(handled)) == sorted(ours - {str(poison.message_id)})
    letters = await _dead_letters_for(kafka_settings, {str(poison.event_id)})
    assert "cannot handle this one" in letters[str(poison.event_id)]


async def test_committed_offsets_mean_a_restarted_consumer_does_not_see_them_again(
    kafka_settings: KafkaSettings,
) -> None:
    events = _media_events(5)
    ours = {str(e.message_id) for e in events}
    group = f"test-{uuid4().hex[:8]}"
    seen: list[str] = []

    async def handler(batch: Sequence[Received]) -> None:
        seen.extend(str(r.event.message_id) for r in batch if str(r.event.message_id) in ours)

    async with Publisher(kafka_settings) as publisher:
        await publisher.publish_many([Outgoing(topics.MEDIA, None, e) for e in events])
        for round_ in range(2):
            consumer = BatchConsumer(
                kafka_settings, [topics.MEDIA], handler, publisher, ConsumerOptions(group_id=group)
            )
            await consumer.start()
            stop = asyncio.Event()
            task = asyncio.create_task(consumer.run(stop))
            await asyncio.sleep(3 if round_ == 0 else 2)
            stop.set()
            await task
            await consumer.stop()
    assert sorted(seen) == sorted(ours)  # each exactly once across both runs


async def test_replay_sends_dead_letters_back_to_their_topic(
    kafka_settings: KafkaSettings,
) -> None:
    event = _media_events(1)[0]
    async with RoundPublisher(kafka_settings) as publisher:
        from bus.deadletter import dead_letter_event

        await publisher.publish(
            topics.DEADLETTER,
            dead_letter_event(
                source_topic=topics.MEDIA,
                group="g",
                key=b"k",
                value=event.model_dump_json().encode(),
                headers={},
                error="x",
                attempts=1,
            ),
        )
        result = await replay(kafka_settings, publisher, idle_s=1.5)
    assert result.replayed >= 1 and result.by_topic.get(topics.MEDIA, 0) >= 1
    consumer = AIOKafkaConsumer(
        topics.MEDIA,
        bootstrap_servers=kafka_settings.bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    found = False
    try:
        async with asyncio.timeout(15):
            while not found:
                for records in (await consumer.getmany(timeout_ms=300)).values():
                    found = found or any(
                        r.value == event.model_dump_json().encode() for r in records
                    )
    finally:
        await consumer.stop()
    assert found


async def test_replay_stops_at_what_was_there_when_it_started(
    kafka_settings: KafkaSettings,
) -> None:
    """A dead letter that fails again lands back on the topic; the replay must not chase it."""
    from bus.deadletter import dead_letter_event

    event = _media_events(1)[0]
    letter = dead_letter_event(
        source_topic=topics.DEADLETTER,
        group="g",
        key=b"loop",
        value=dead_letter_event(
            source_topic=topics.MEDIA,
            group="g",
            key=b"k",
            value=event.model_dump_json().encode(),
            headers={},
            error="x",
            attempts=1,
        )
        .model_dump_json()
        .encode(),
        headers={},
        error="x",
        attempts=1,
    )
    async with RoundPublisher(kafka_settings) as publisher:
        # Its source is the dead-letter topic itself: replaying it appends a new dead letter,
        # exactly like a record that fails again at once.
        await publisher.publish(topics.DEADLETTER, letter)
        first = await asyncio.wait_for(replay(kafka_settings, publisher, idle_s=1.0), 60)
        second = await asyncio.wait_for(replay(kafka_settings, publisher, idle_s=1.0), 60)
    assert first.by_topic.get(topics.DEADLETTER, 0) >= 1
    assert second.replayed >= 1  # the re-dead-lettered copy waits for the next replay
