"""Consume a topic in batches and commit offsets only after the handler's effect is durable.

The handler gets a whole batch (records of several partitions, each partition's records in
order) so it can write them in one transaction. If it fails, the batch is retried with
backoff; if it keeps failing, records are retried one at a time so one poison record cannot
hold back the others, and a record that still fails goes to the dead-letter topic with the
error. Records that do not even decode go there at once. Offsets are committed after that,
so a crash anywhere before replays the batch: handlers must be idempotent.

A record that kills the process instead of failing is caught by the optional delivery ledger
(``bus.deliveries``): each start is counted durably before the handler runs; a record seen
again unfinished is handled alone (so records that merely shared its batch are not blamed),
and one found with ``max_deliveries`` unfinished starts is dead-lettered without handling.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from pydantic import ValidationError
from tenacity import AsyncRetrying, stop_after_attempt, wait_exponential_jitter

from bus.deadletter import dead_letter
from bus.deliveries import DeliveryLedger, RecordId
from bus.publisher import Publisher
from config.shared import KafkaSettings
from contracts.codec import decode

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
    poll_timeout_ms: int = 200
    auto_offset_reset: str = "earliest"
    # With a delivery ledger: unfinished starts after which a record is set aside as poison.
    max_deliveries: int = 3
    extra: dict[str, Any] = field(default_factory=dict)


class RetryOptions(Protocol):
    """What both consumers (this one and the dispatcher's lanes) retry and dead-letter by."""

    @property
    def group_id(self) -> str: ...
    @property
    def max_attempts(self) -> int: ...
    @property
    def retry_initial_s(self) -> float: ...
    @property
    def retry_max_s(self) -> float: ...


def retrying(options: RetryOptions) -> AsyncRetrying:
    """A handler's retries: ``max_attempts`` tries, exponential backoff with jitter."""
    return AsyncRetrying(
        stop=stop_after_attempt(options.max_attempts),
        wait=wait_exponential_jitter(multiplier=options.retry_initial_s, max=options.retry_max_s),
        reraise=True,
    )


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
    publisher: Publisher,
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
    publisher: Publisher, group: str, record: ConsumerRecord
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
    publisher: Publisher, options: RetryOptions, received: Received, exc: BaseException
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
        publisher: Publisher,
        options: ConsumerOptions,
        deliveries: DeliveryLedger | None = None,
    ) -> None:
        self._settings = settings
        self._deliveries = deliveries
        self._topics = list(topic_names)
        self._handler = handler
        self._publisher = publisher
        self._options = options
        self._consumer: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            *self._topics,
            bootstrap_servers=self._settings.bootstrap,
            client_id=self._settings.client_id,
            group_id=self._options.group_id,
            enable_auto_commit=False,
            auto_offset_reset=self._options.auto_offset_reset,
            request_timeout_ms=max(self._settings.request_timeout_ms, 40_000),
            fetch_max_wait_ms=self._settings.fetch_max_wait_ms,
            **self._options.extra,
        )
        await self._consumer.start()

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()  # leaves the group, so partitions move at once

    async def run(self, stop: asyncio.Event) -> None:
        """Poll, handle, commit, until ``stop`` is set; the batch in hand is finished first."""
        assert self._consumer is not None, "start() first"
        while not stop.is_set():
            batches = await self._consumer.getmany(
                timeout_ms=self._options.poll_timeout_ms, max_records=self._options.max_records
            )
            if batches:
                await self.process(batches)

    async def process(self, batches: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        assert self._consumer is not None
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
            await (self._handle(good) if ledger is None else self._handle_counted(ledger, good))
        committed = {tp: records[-1].offset + 1 for tp, records in batches.items()}
        await self._consumer.commit(committed)
        if ledger is not None:
            await ledger.settled(
                self._options.group_id, {(tp.topic, tp.partition): n for tp, n in committed.items()}
            )

    async def _handle_counted(self, ledger: DeliveryLedger, batch: Sequence[Received]) -> None:
        """``_handle`` with each start counted first. After a restart the unfinished records
        are the oldest of their partitions, so handling them first keeps each partition's
        order."""
        group = self._options.group_id
        counts = await ledger.counts(group, [_record_id(r) for r in batch])
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
                await ledger.started(group, [_record_id(received)])
                await self._handle([received])
            else:
                fresh.append(received)
        if fresh:
            await ledger.started(group, [_record_id(r) for r in fresh])
            await self._handle(fresh)

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
        async for attempt in retrying(self._options):
            with attempt:
                await self._handler(batch)


def _record_id(received: Received) -> RecordId:
    return (received.topic, received.partition, received.offset)
