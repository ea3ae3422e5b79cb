"""Dead letters: building them, and sending them back to where they came from."""

import asyncio
import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client import Counter

from bus.publisher import Outgoing
from bus.rounds import RoundPublisher
from config.shared import KafkaSettings
from contracts import topics
from contracts.codec import decode
from contracts.deadletter import DeadLettered

DEAD_LETTERS = Counter(
    "deadletters_total",
    "Records dead-lettered, by the topic they came from, the group that gave up, and why",
    ["topic", "group", "reason"],
)


def reason_of(error: str, attempts: int) -> str:
    """A bounded label for why a record was dead-lettered; the full error is in the letter.

    >>> reason_of("undecodable: 2 errors: ...", 1), reason_of("TimeoutError()", 5)
    ('undecodable', 'retries_exhausted')
    """
    if error.startswith("undecodable"):
        return "undecodable"
    if "without tenant_id" in error:
        return "no_tenant"
    if attempts > 1:
        return "retries_exhausted"
    return "rejected"  # a fault of the record itself: applying it again cannot succeed


def _text_and_exact(raw: bytes) -> tuple[str, str | None]:
    """A readable copy of ``raw``, and its exact bytes (base64) when it is not UTF-8."""
    try:
        return raw.decode(), None
    except UnicodeDecodeError:
        return raw.decode(errors="replace"), base64.b64encode(raw).decode("ascii")


def original_bytes(text: str | None, exact: str | None) -> bytes | None:
    """Pure: the bytes a dead letter held, from its text and its optional exact copy."""
    if exact is not None:
        return base64.b64decode(exact)
    return text.encode() if text is not None else None


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
    key_text, key_exact = _text_and_exact(key) if key is not None else (None, None)
    value_text, value_exact = _text_and_exact(value)
    return DeadLettered(
        source_topic=source_topic,
        consumer_group=group,
        key=key_text,
        key_base64=key_exact,
        value=value_text,
        value_base64=value_exact,
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
    """The dead letter for one record, ready to publish, keyed like the record it holds.
    Counted here, where every consumer makes its letters (a publish that fails is retried with
    its batch and counted again: the figure may run ahead, never behind)."""
    DEAD_LETTERS.labels(source_topic, group, reason_of(error, attempts)).inc()
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
# The Postgres advisory lock two replays share (any fixed bigint; "omni-dlq" in ASCII).
REPLAY_LOCK = 0x6F6D6E692D646C71


@asynccontextmanager
async def one_replay_at_a_time(database_url: str) -> AsyncIterator[None]:
    """Hold the replay lock: a second ``omni dlq replay`` waits here until the first is done,
    then finds what it sent already committed. A session lock, so it is released when the
    connection closes, even if the process dies."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", REPLAY_LOCK)
        yield
    finally:
        await conn.close()


async def replay(
    settings: KafkaSettings,
    publisher: RoundPublisher,
    *,
    idle_s: float = 2.0,
    limit: int | None = None,
) -> ReplayResult:
    """Send every dead letter not replayed before back to its source topic.

    Only the dead letters present when the replay starts are sent: one that fails again and is
    dead-lettered anew waits for the next replay instead of being chased forever. Each letter
    is committed (consumer group ``REPLAY_GROUP``, partitions assigned, no group membership)
    as soon as it is re-published, so a replay run again sends only what is left; run it under
    ``one_replay_at_a_time`` so that two at once do too (``omni dlq replay`` does). It stops
    once every letter present at the start is sent, after ``idle_s`` without records, or after
    ``limit`` letters. Key and value go back byte for byte.
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
        ends = await _ends(settings, consumer, partitions)
        consumer.assign(partitions)
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
                    await _send_back(publisher, letter)
                    await consumer.commit({tp: record.offset + 1})
                    counts[letter.source_topic] = counts.get(letter.source_topic, 0) + 1
                    total += 1
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
                await asyncio.sleep(0)
    finally:
        await consumer.stop()
    return ReplayResult(total, counts)


async def _ends(
    settings: KafkaSettings, group: AIOKafkaConsumer, partitions: list[TopicPartition]
) -> dict[TopicPartition, int]:
    """Where each partition ends now. Taken from a fetch's high watermark as well as from
    ListOffsets, because the embedded broker (Tansu) answers ListOffsets with the last
    batch's base offset + 1, short of the end whenever that batch holds several letters."""
    ends = dict(await group.end_offsets(partitions))
    probe = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap, group_id=None)
    await probe.start()
    try:
        probe.assign(partitions)
        unseen = {tp for tp in partitions if ends[tp] > 0}
        for tp in unseen:
            probe.seek(tp, ends[tp] - 1)
        deadline = asyncio.get_running_loop().time() + 5.0
        while unseen and asyncio.get_running_loop().time() < deadline:
            for tp in await probe.getmany(*unseen, timeout_ms=500, max_records=1):
                ends[tp] = max(ends[tp], probe.highwater(tp) or 0)
                unseen.discard(tp)
    finally:
        await probe.stop()
    return ends


async def _send_back(publisher: RoundPublisher, letter: DeadLettered) -> None:
    value = original_bytes(letter.value, letter.value_base64)
    assert value is not None
    await publisher.publish_raw(
        letter.source_topic,
        value,
        original_bytes(letter.key, letter.key_base64),
        [(k, v.encode()) for k, v in letter.headers.items()],
    )
