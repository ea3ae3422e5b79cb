"""The outbound consumer: one lane per conversation, polled continuously, committed as records
finish.

Records of one key (conversation) go into one lane and are handled strictly in order; lanes
run side by side, so a conversation waiting on its number's rate limit or on a retry holds
back only itself, never the next poll. At most ``max_in_flight`` records are held at once.
Offsets are committed only up to the lowest record still in flight (offsets.py), so a crash
replays everything unfinished; handlers are idempotent (the claim on the message row).
Partitions taken away in a rebalance are drained and committed before they go, so two
processes never work on the same record at once.
"""

import asyncio
import contextlib
import itertools
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaError

from bus.consumer import Received, dead_letter_failed, decoded_or_dead_lettered
from bus.publisher import Publisher
from bus.retrying import retrying
from bus.stream import Batches, Subscription, SubscriptionOptions
from config.shared import KafkaSettings
from dispatcher.backoff import Interrupted
from dispatcher.offsets import OffsetTracker
from telemetry import liveness

log = structlog.get_logger(__name__)

# Longer than any wait the polling loop itself makes (a rebalance's hand-back, at worst).
STALL_S = 600.0
_CONSUMERS = itertools.count(1)

RecordHandler = Callable[[Received], Awaitable[None]]


@dataclass(frozen=True)
class LaneOptions:
    group_id: str
    max_in_flight: int = 1000
    max_records: int = 200
    poll_timeout_ms: int = 20  # see bus.stream.SubscriptionOptions
    commit_interval_s: float = 1.0
    # A handler that raises (database down, a bug) is retried, then dead-lettered.
    max_attempts: int = 5
    retry_initial_s: float = 0.2
    retry_max_s: float = 5.0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Lane:
    records: deque[Received] = field(default_factory=deque)
    task: asyncio.Task[None] | None = None


class _Drain(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, lanes: "LaneConsumer") -> None:
        self._lanes = lanes

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._lanes.hand_back(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        return None


class LaneConsumer:
    def __init__(
        self,
        settings: KafkaSettings,
        topic: str,
        handler: RecordHandler,
        publisher: Publisher,
        options: LaneOptions,
    ) -> None:
        self._handler = handler
        self._publisher = publisher
        self._options = options
        self._tracker = OffsetTracker()
        self._lanes: dict[tuple[TopicPartition, bytes | None], _Lane] = {}
        self._room = asyncio.Event()
        # Lanes stop after their current record when the process stops or their partition
        # goes away (on stop, a record whose handler is waiting ends at once: Interrupted);
        # the records left behind are not committed, so they come back.
        self._stopping = False
        self._letting_go: set[TopicPartition] = set()
        self.loop_name = f"consumer {options.group_id} #{next(_CONSUMERS)}"
        self._last_commit = time.monotonic()
        self._subscription = Subscription(
            settings,
            [topic],
            self._on_batch,
            SubscriptionOptions(
                group_id=options.group_id,
                max_records=options.max_records,
                poll_timeout_ms=options.poll_timeout_ms,
                listener=_Drain(self),
                extra=options.extra,
            ),
            loop_name=self.loop_name,
            stall_s=STALL_S,
        )

    async def start(self) -> None:
        await self._subscription.start()

    async def stop(self) -> None:
        await self._subscription.stop()

    @property
    def in_flight(self) -> int:
        return self._tracker.in_flight

    async def run(self, stop: asyncio.Event) -> None:
        """Hand what FastStream polls to lanes until ``stop``; then let every lane finish the
        record in hand (the rest come back to whoever consumes next) and commit. A record whose
        handler is waiting (backoff, Retry-After, a token, another attempt's claim) is not
        finished: the wait ends on ``stop`` (``Interrupted``) and the record stays uncommitted;
        only a provider call already in flight is seen through."""
        committing = asyncio.create_task(self._commit_while_idle(stop))
        try:
            await self._subscription.run(stop)
        finally:
            committing.cancel()
            self._stopping = True
            await self._finish_lanes(None)
            await self._commit(force=True)

    async def _on_batch(self, consumer: AIOKafkaConsumer, batches: Batches) -> None:
        """Take the polled records into their lanes. FastStream polls again when this returns,
        so while ``max_in_flight`` records are held it waits for room (lanes finishing), at
        most one poll (``max_records``) over the bound."""
        for records in batches.values():
            for record in records:
                await self._take(record)
        while self._tracker.in_flight >= self._options.max_in_flight and not self._stopping:
            liveness.beat(self.loop_name)  # lanes wait on their own; polling never does
            self._room.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._room.wait(), timeout=0.5)
            await self._commit()
        await self._commit()

    async def _commit_while_idle(self, stop: asyncio.Event) -> None:
        """Lanes finish between polls too: their offsets are committed on the interval even
        when nothing new arrives."""
        while not stop.is_set():
            await asyncio.sleep(self._options.commit_interval_s)
            await self._commit()

    async def _take(self, record: ConsumerRecord) -> None:
        tp = TopicPartition(record.topic, record.partition)
        self._tracker.started(tp, record.offset)
        received = await decoded_or_dead_lettered(self._publisher, self._options.group_id, record)
        if received is None:
            self._tracker.finished(tp, record.offset)
            return
        lane = self._lanes.setdefault((tp, record.key), _Lane())
        lane.records.append(received)
        if lane.task is None or lane.task.done():
            lane.task = asyncio.create_task(self._drive(tp, record.key, lane))

    async def _drive(self, tp: TopicPartition, key: bytes | None, lane: _Lane) -> None:
        while lane.records and not self._stopping and tp not in self._letting_go:
            received = lane.records[0]
            try:
                await self._handle(received)
            except Interrupted:
                # The process is stopping and the handler gave up a wait (no call in flight,
                # no claim standing): the record stays uncommitted and comes back.
                return
            except Exception as exc:
                # Neither handled nor dead-lettered (the broker is gone too): the record stays
                # in flight, so its offset is never committed, and run() stops the process;
                # the next one gets the record again.
                self._subscription.fail(exc)
                self._room.set()
                return
            lane.records.popleft()
            self._tracker.finished(tp, received.offset)
            self._room.set()
        if not lane.records and self._lanes.get((tp, key)) is lane:
            del self._lanes[(tp, key)]

    async def _handle(self, received: Received) -> None:
        interrupted: Interrupted | None = None
        try:
            async for attempt in retrying(self._options):
                with attempt:
                    try:
                        await self._handler(received)
                    except Interrupted as exc:
                        interrupted = exc  # stopping: neither a retry nor a dead letter
        except Exception as exc:
            await dead_letter_failed(self._publisher, self._options, received, exc)
        if interrupted is not None:
            raise interrupted

    async def _finish_lanes(self, partitions: set[TopicPartition] | None) -> None:
        tasks = [
            lane.task
            for (tp, _), lane in list(self._lanes.items())
            if lane.task is not None and (partitions is None or tp in partitions)
        ]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def hand_back(self, revoked: set[TopicPartition]) -> None:
        """Rebalance: finish what was taken from ``revoked`` and commit it before letting go."""
        self._letting_go = set(revoked)
        try:
            await self._finish_lanes(revoked)
        finally:
            self._letting_go = set()
        for lane_key in [k for k in self._lanes if k[0] in revoked]:
            del self._lanes[lane_key]
        await self._commit(force=True, partitions=revoked)
        self._tracker.forget(revoked)

    async def _commit(
        self, *, force: bool = False, partitions: set[TopicPartition] | None = None
    ) -> None:
        if not force and time.monotonic() - self._last_commit < self._options.commit_interval_s:
            return
        positions = self._tracker.committable(partitions)
        self._last_commit = time.monotonic()
        if not positions:
            return
        try:
            await self._subscription.consumer.commit(
                {tp: offset for tp, offset in positions.items()}
            )
        except KafkaError as exc:
            # E.g. a rebalance began: the positions are committed by whoever holds the
            # partitions next, or the records are handled again (which changes nothing).
            log.warning("offset commit failed", error=repr(exc))
            return
        self._tracker.committed(positions)
