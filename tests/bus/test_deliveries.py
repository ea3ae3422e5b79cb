"""The delivery ledger with the batch consumer, real broker and Postgres: a record found with
unfinished starts is handled alone, one found with ``max_deliveries`` is dead-lettered without
being handled, fresh records go as one batch, and the ledger is empty once offsets commit."""

import asyncio
from collections.abc import Sequence
from uuid import uuid4

import asyncpg
from aiokafka import AIOKafkaConsumer

from bus.consumer import BatchConsumer, ConsumerOptions, Received
from bus.deliveries import PostgresDeliveries, RecordId
from bus.publisher import Outgoing, Publisher
from config.shared import KafkaSettings
from contracts import topics
from tests.bus.test_consumer import _dead_letters_for, _media_events


async def _record_ids(settings: KafkaSettings, wanted: set[str]) -> dict[str, RecordId]:
    """event id → (topic, partition, offset) of the records holding them."""
    consumer = AIOKafkaConsumer(
        topics.MEDIA,
        bootstrap_servers=settings.bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    found: dict[str, RecordId] = {}
    try:
        async with asyncio.timeout(60):
            while len(found) < len(wanted):
                for records in (await consumer.getmany(timeout_ms=300)).values():
                    for record in records:
                        for event_id in wanted:
                            if event_id.encode() in record.value:
                                found[event_id] = (record.topic, record.partition, record.offset)
    finally:
        await consumer.stop()
    return found


async def test_unfinished_records_are_handled_alone_and_poison_is_set_aside(
    kafka_settings: KafkaSettings, app_pool: asyncpg.Pool
) -> None:
    events = _media_events(6)
    suspect, poison = events[1], events[3]
    ours = {str(e.event_id) for e in events}
    group = f"test-ledger-{uuid4().hex[:8]}"
    ledger = PostgresDeliveries(app_pool)
    batches: list[list[str]] = []
    done = asyncio.Event()

    async def handler(batch: Sequence[Received]) -> None:
        mine = [str(r.event.event_id) for r in batch if str(r.event.event_id) in ours]
        if mine:
            batches.append(mine)
        if len({e for b in batches for e in b}) >= len(events) - 1:
            done.set()

    async with Publisher(kafka_settings) as publisher:
        await publisher.publish_many([Outgoing(topics.MEDIA, "one-key", e) for e in events])
        ids = await _record_ids(kafka_settings, ours)
        # As a previous process would have left them: the suspect started once, the poison
        # three times, neither finished.
        await ledger.started(group, [ids[str(suspect.event_id)], ids[str(poison.event_id)]])
        await ledger.started(group, [ids[str(poison.event_id)]])
        await ledger.started(group, [ids[str(poison.event_id)]])

        consumer = BatchConsumer(
            kafka_settings,
            [topics.MEDIA],
            handler,
            publisher,
            ConsumerOptions(group_id=group, max_deliveries=3),
            deliveries=ledger,
        )
        await consumer.start()
        stop = asyncio.Event()
        task = asyncio.create_task(consumer.run(stop))
        try:
            await asyncio.wait_for(done.wait(), 60)
        finally:
            stop.set()
            await task
            await consumer.stop()

    handled = [e for b in batches for e in b]
    assert str(poison.event_id) not in handled
    assert sorted(handled) == sorted(ours - {str(poison.event_id)})  # each once
    assert [str(suspect.event_id)] in batches  # alone, not with the records after it
    letters = await _dead_letters_for(kafka_settings, {str(poison.event_id)})
    assert "poison record" in letters[str(poison.event_id)]
    left = await app_pool.fetchval(
        "SELECT count(*) FROM consumer_deliveries WHERE consumer_group = $1", group
    )
    assert left == 0
