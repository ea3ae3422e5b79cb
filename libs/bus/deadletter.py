"""Dead letters: building them, and sending them back to where they came from."""

import asyncio
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition

from bus.publisher import Outgoing, Publisher
from config.shared import KafkaSettings
from contracts import topics
from contracts.codec import decode
from contracts.deadletter import DeadLettered


def dead_letter_event(
    *,
    source_topic: str,
    group: str,
    key: bytes | None,
    value: bytes,
    headers: dict[str, str],
    error: str,
    attempts: int,
) -> DeadLettered:
    return DeadLettered(
        source_topic=source_topic,
        consumer_group=group,
        key=key.decode(errors="replace") if key is not None else None,
        value=value.decode(errors="replace"),
        headers=headers,
        error=error[:4000],
        attempts=attempts,
        traceparent=headers.get("traceparent"),
    )


def dead_letter(
    *,
    source_topic: str,
    group: str,
    key: bytes | None,
    value: bytes,
    headers: dict[str, str],
    error: str,
    attempts: int,
) -> Outgoing:
    """The dead letter for one record, ready to publish, keyed like the record it holds."""
    event = dead_letter_event(
        source_topic=source_topic,
        group=group,
        key=key,
        value=value,
        headers=headers,
        error=error,
        attempts=attempts,
    )
    return Outgoing(topics.DEADLETTER, event.key, event)


@dataclass(frozen=True)
class ReplayResult:
    replayed: int
    by_topic: dict[str, int]


REPLAY_GROUP = "omni-dlq-replay"


async def replay(
    settings: KafkaSettings, publisher: Publisher, *, idle_s: float = 2.0, limit: int | None = None
) -> ReplayResult:
    """Send every dead letter not replayed before back to its source topic.

    Only the dead letters present when the replay starts are sent: one that fails again and is
    dead-lettered anew waits for the next replay instead of being chased forever. The replay
    has its own consumer group, so each dead letter is replayed once; it also stops after
    ``idle_s`` without records, or after ``limit`` records.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap,
        group_id=REPLAY_GROUP,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    counts: dict[str, int] = {}
    total = 0
    try:
        await consumer.topics()  # refreshes metadata, so the partitions below are known
        partitions = [
            TopicPartition(topics.DEADLETTER, p)
            for p in sorted(consumer.partitions_for_topic(topics.DEADLETTER) or ())
        ]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if await consumer.position(tp) < ends[tp]}
        while remaining and (limit is None or total < limit):
            batches = await consumer.getmany(
                *remaining, timeout_ms=int(idle_s * 1000), max_records=100
            )
            if not batches:
                break
            for tp, records in batches.items():
                for record in records:
                    if record.offset >= ends[tp] or (limit is not None and total >= limit):
                        break
                    letter: DeadLettered = decode(topics.DEADLETTER, record.value)
                    headers = [(k, v.encode()) for k, v in letter.headers.items()]
                    await publisher.publish_raw(
                        letter.source_topic,
                        letter.value.encode(),
                        letter.key.encode() if letter.key is not None else None,
                        headers,
                    )
                    counts[letter.source_topic] = counts.get(letter.source_topic, 0) + 1
                    total += 1
                    await consumer.commit({tp: record.offset + 1})
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
                await asyncio.sleep(0)
    finally:
        await consumer.stop()
    return ReplayResult(total, counts)
