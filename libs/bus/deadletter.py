"""Dead letters: building them, and sending them back to where they came from."""

import asyncio
import base64
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition

from bus.publisher import Outgoing, Publisher
from config.shared import KafkaSettings
from contracts import topics
from contracts.codec import decode
from contracts.deadletter import DeadLettered


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
# A group join waits for the members it already has (their session timeout at most), so a
# replay waits at least this long for the group's offsets to move before it gives up.
JOIN_WAIT_S = 15.0


class _FinishBeforeHandingBack(ConsumerRebalanceListener):  # type: ignore[misc]
    """A second replay joining the group takes partitions from this one: the letter being
    sent is published and committed before they go, so neither replay sends it again."""

    def __init__(self, lock: asyncio.Lock) -> None:
        self._lock = lock

    async def on_partitions_revoked(self, revoked: object) -> None:
        async with self._lock:
            pass

    async def on_partitions_assigned(self, assigned: object) -> None:
        pass


async def replay(
    settings: KafkaSettings, publisher: Publisher, *, idle_s: float = 2.0, limit: int | None = None
) -> ReplayResult:
    """Send every dead letter not replayed before back to its source topic.

    Only the dead letters present when the replay starts are sent: one that fails again and is
    dead-lettered anew waits for the next replay instead of being chased forever. The replay
    is a consumer group that commits each letter as soon as it is re-published, so running it
    twice, or twice at once, sends each dead letter once. It stops once the group has
    committed every letter present at the start, after ``limit`` letters, or when the group's
    offsets have not moved for ``idle_s`` (at least ``JOIN_WAIT_S``). Key and value go back
    byte for byte.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap,
        group_id=REPLAY_GROUP,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        # Short membership bounds: a join waits for the members the group already has, and a
        # replay that died (or a broker that misses a LeaveGroup) must not hold it for minutes.
        session_timeout_ms=10_000,
        heartbeat_interval_ms=1_000,
        rebalance_timeout_ms=10_000,
    )
    sending = asyncio.Lock()
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
        consumer.subscribe([topics.DEADLETTER], listener=_FinishBeforeHandingBack(sending))
        clock = asyncio.get_running_loop().time
        left, moved_at = await _left(consumer, ends), clock()
        # Rebalances pause fetching (a second replay joining, one leaving): only a long
        # stillness of the group's committed offsets means nobody is replaying any more.
        while left and clock() - moved_at < max(idle_s, JOIN_WAIT_S):
            if limit is not None and total >= limit:
                break
            batches = await consumer.getmany(timeout_ms=200, max_records=100)
            for tp, records in batches.items():
                for record in records:
                    if record.offset >= ends.get(tp, 0) or (limit is not None and total >= limit):
                        break
                    async with sending:
                        if tp not in consumer.assignment():
                            break  # handed to another replay meanwhile: it sends the rest
                        letter: DeadLettered = decode(topics.DEADLETTER, record.value)
                        await _send_back(publisher, letter)
                        await consumer.commit({tp: record.offset + 1})
                    counts[letter.source_topic] = counts.get(letter.source_topic, 0) + 1
                    total += 1
            now_left = await _left(consumer, ends)
            if now_left != left:
                left, moved_at = now_left, clock()
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


async def _left(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> int:
    """Dead letters present at the start that the group (this replay or another) has not
    committed yet."""
    left = 0
    for tp, end in ends.items():
        left += max(0, end - (await consumer.committed(tp) or 0))
    return left


async def _send_back(publisher: Publisher, letter: DeadLettered) -> None:
    value = original_bytes(letter.value, letter.value_base64)
    assert value is not None
    await publisher.publish_raw(
        letter.source_topic,
        value,
        original_bytes(letter.key, letter.key_base64),
        [(k, v.encode()) for k, v in letter.headers.items()],
    )
