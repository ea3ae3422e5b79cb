"""Consume a topic in batches and commit offsets only after the handler's effect is durable.

Polling is FastStream's (``bus.stream``, a batch subscriber with its acknowledgement off); this
module is the policy on top. The handler gets a whole batch (records of several partitions,
each partition's records in order) so it can write them in one transaction. If it fails, what
happens depends on the fault (``bus.transient``, ``bus.retrying``): an infrastructure fault
(the database, S3 or the broker away) is waited out for as long as it lasts, with the
partitions paused, a log line and the ``consumer_waiting_on_infrastructure`` gauge up; a fault
of the record itself (it does not validate, it breaks a constraint) sends it to the dead-letter
topic at once; anything else is retried with backoff, then record by record so one poison
record cannot hold back the others, and a record that still fails is dead-lettered with the
error. Records that do not even decode go there at once. Offsets are committed after that, so a
crash anywhere before replays the batch: handlers must be idempotent. A commit refused because
a rebalance took the partitions is logged and skipped: their next owner handles those records
again, which changes nothing.

A record that kills the process instead of failing is caught by the optional delivery ledger
(``bus.deliveries``): each start is counted durably before the handler runs; a record seen
again unfinished is handled alone (so records that merely shared its batch are not blamed),
and one found with ``max_deliveries`` unfinished starts is dead-lettered without handling.
"""

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from bus import tracecontext
from bus.deadletter import dead_letter
from bus.deliveries import DeliveryLedger, RecordId
from bus.publisher import PublisherBase
from bus.retrying import RetryOptions, T, with_retries
from bus.stream import Batches, Subscription, SubscriptionOptions
from config.shared import KafkaSettings
from contracts.codec import decode
from telemetry import liveness, tracing

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Received:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, str]
    event: Any  # the validated contract event


Handler = Callable[[Sequence[Received]], Awaitable[None]]


@dataclass
class ConsumerOptions:
    group_id: str
    max_records: int = 200
    max_attempts: int = 5
    retry_initial_s: float = 0.2
    retry_max_s: float = 5.0
    poll_timeout_ms: int = 20  # see bus.stream.SubscriptionOptions
    auto_offset_reset: str = "earliest"
    # With a delivery ledger: unfinished starts after which a record is set aside as poison.
    max_deliveries: int = 3
    # /healthz fails when the poll loop has not turned for this long (a handler stuck on
    # something that never answers); a long batch, e.g. a 100 MB media download, stays below.
    stall_s: float = 600.0
    extra: dict[str, Any] = field(default_factory=dict)


_CONSUMERS = itertools.count(1)


def _headers(record: ConsumerRecord) -> dict[str, str]:
    return {k: v.decode(errors="replace") for k, v in (record.headers or ())}


def received_from(record: ConsumerRecord) -> Received:
    """The record with its event decoded; raises ``pydantic.ValidationError``."""
    return Received(
        record.topic,
        record.partition,
        record.offset,
        record.key,
        record.value,
        _headers(record),
        decode(record.topic, record.value),
    )


async def send_to_dead_letters(
    publisher: PublisherBase,
    group: str,
    record: Received | ConsumerRecord,
    *,
    error: str,
    attempts: int,
) -> None:
    """Dead-letter ``record`` (decoded or not) as consumed by ``group``."""
    headers = record.headers if isinstance(record, Received) else _headers(record)
    log.error("dead-lettering", topic=record.topic, offset=record.offset, error=error[:500])
    await publisher.publish_many(
        [
            dead_letter(
                source_topic=record.topic,
                group=group,
                key=record.key,
                value=record.value,
                headers=headers,
                error=error,
                attempts=attempts,
            )
        ]
    )


async def decoded_or_dead_lettered(
    publisher: PublisherBase, group: str, record: ConsumerRecord
) -> Received | None:
    """``record`` decoded, or ``None`` once it is dead-lettered as undecodable (retrying
    cannot fix a record that does not match its topic's schema)."""
    try:
        return received_from(record)
    except ValidationError as exc:
        error = f"undecodable: {exc.error_count()} errors: {exc}"
        await send_to_dead_letters(publisher, group, record, error=error, attempts=1)
        return None


async def dead_letter_failed(
    publisher: PublisherBase, options: RetryOptions, received: Received, exc: BaseException
) -> None:
    """Dead-letter ``received`` once its handler failed ``options.max_attempts`` times."""
    await send_to_dead_letters(
        publisher, options.group_id, received, error=repr(exc), attempts=options.max_attempts
    )


class BatchConsumer:
    def __init__(
        self,
        settings: KafkaSettings,
        topic_names: Sequence[str],
        handler: Handler,
        publisher: PublisherBase,
        options: ConsumerOptions,
        deliveries: DeliveryLedger | None = None,
    ) -> None:
        self._deliveries = deliveries
        self._topics = list(topic_names)
        self._handler = handler
        self._publisher = publisher
        self._options = options
        self._stop = asyncio.Event()
        self.loop_name = f"consumer {options.group_id} #{next(_CONSUMERS)}"
        self._subscription = Subscription(
            settings,
            self._topics,
            self._on_batch,
            SubscriptionOptions(
                group_id=options.group_id,
                max_records=options.max_records,
                poll_timeout_ms=options.poll_timeout_ms,
                auto_offset_reset=options.auto_offset_reset,
                extra=options.extra,
            ),
            loop_name=self.loop_name,
            stall_s=options.stall_s,
        )

    @property
    def _consumer(self) -> AIOKafkaConsumer:
        return self._subscription.consumer

    async def start(self) -> None:
        await self._subscription.start()

    async def stop(self) -> None:
        await self._subscription.stop()  # leaves the group, so partitions move at once

    async def run(self, stop: asyncio.Event) -> None:
        """Handle and commit what FastStream polls, until ``stop`` is set; the batch in hand is
        finished first, unless it is waiting out an infrastructure fault: then it is left
        uncommitted, for whoever consumes next."""
        self._stop = stop
        await self._subscription.run(stop)

    async def _on_batch(self, consumer: AIOKafkaConsumer, batches: Batches) -> None:
        try:
            await self.process(batches)
        except _Stopping:
            log.info("stopped while waiting out an infrastructure fault")

    async def process(self, batches: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        good: list[Received] = []
        for records in batches.values():
            for record in records:
                received = await decoded_or_dead_lettered(
                    self._publisher, self._options.group_id, record
                )
                if received is not None:
                    good.append(received)
        ledger = self._deliveries
        if good:
            try:
                if tracing.active:  # a span per record, for as long as its batch is handled
                    with tracecontext.handling(f"{self._options.group_id} process", good):
                        await self._handle_all(ledger, good)
                else:
                    await self._handle_all(ledger, good)
            finally:
                self._consumer.resume(*self._consumer.paused())
        committed = {tp: records[-1].offset + 1 for tp, records in batches.items()}
        try:
            await self._consumer.commit(committed)
        except KafkaError as exc:
            # A rebalance took (some of) the partitions while the batch was handled: their next
            # owner handles those records again, which changes nothing (handlers are idempotent).
            log.warning("offset commit refused, records will be handled again", error=repr(exc))
            return
        if ledger is not None:
            settled = {(tp.topic, tp.partition): n for tp, n in committed.items()}
            await self._durably(lambda: ledger.settled(self._options.group_id, settled))

    async def _handle_all(self, ledger: DeliveryLedger | None, good: Sequence[Received]) -> None:
        await (self._handle(good) if ledger is None else self._handle_counted(ledger, good))

    async def _handle_counted(self, ledger: DeliveryLedger, batch: Sequence[Received]) -> None:
        """``_handle`` with each start counted first. After a restart the unfinished records
        are the oldest of their partitions, so handling them first keeps each partition's
        order."""
        group = self._options.group_id
        ids = [_record_id(r) for r in batch]
        counts = await self._durably(lambda: ledger.counts(group, ids))
        fresh: list[Received] = []
        for received in batch:
            starts = counts.get(_record_id(received), 0)
            if starts >= self._options.max_deliveries:
                error = (
                    f"poison record: its handling started {starts} times and never finished "
                    "(the consumer died each time)"
                )
                await send_to_dead_letters(
                    self._publisher, group, received, error=error, attempts=starts
                )
            elif starts:
                one = [_record_id(received)]
                await self._durably(lambda one=one: ledger.started(group, one))  # type: ignore[misc]
                await self._handle([received])
            else:
                fresh.append(received)
        if fresh:
            fresh_ids = [_record_id(r) for r in fresh]
            await self._durably(lambda: ledger.started(group, fresh_ids))
            await self._handle(fresh)

    async def _durably(self, call: Callable[[], Awaitable[T]]) -> T:
        """The ledger's own reads and writes, under the same fault policy as handlers."""
        return await with_retries(self._options, call, sleep=self._paused_sleep)

    async def _handle(self, batch: Sequence[Received]) -> None:
        try:
            await self._with_retries(batch)
            return
        except Exception as exc:
            if len(batch) == 1:
                await dead_letter_failed(self._publisher, self._options, batch[0], exc)
                return
            log.warning("batch failed, retrying one by one", size=len(batch), error=str(exc))
        for one in batch:
            try:
                await self._with_retries([one])
            except Exception as exc:
                await dead_letter_failed(self._publisher, self._options, one, exc)

    async def _with_retries(self, batch: Sequence[Received]) -> None:
        await with_retries(self._options, lambda: self._handler(batch), sleep=self._paused_sleep)

    async def _paused_sleep(self, seconds: float) -> None:
        """Wait between attempts without leaving the group: the partitions are paused (nothing
        new is fetched; ``process`` resumes them) and polled, so the poll interval the group
        requires (``max.poll.interval.ms``) never expires during a long outage."""
        consumer = self._consumer
        if self._stop.is_set():
            raise _Stopping
        consumer.pause(*consumer.assignment())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (left := deadline - loop.time()) > 0:
            liveness.beat(self.loop_name)  # waiting out a fault is not being stuck
            polled_at = loop.time()
            await consumer.getmany(timeout_ms=int(min(left, 1.0) * 1000))
            if loop.time() - polled_at < 0.05:  # answered at once: do not spin
                await asyncio.sleep(min(left, 1.0))
            if self._stop.is_set():
                raise _Stopping


class _Stopping(BaseException):
    """The process is stopping while a batch waits out a fault: abandon the batch (not an
    ``Exception``, so nothing on the way dead-letters it)."""


def _record_id(received: Received) -> RecordId:
    return (received.topic, received.partition, received.offset)
