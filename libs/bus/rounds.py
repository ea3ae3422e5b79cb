"""The round publisher: records of concurrent callers gathered into one batch per partition.

Callers publish one request's events at a time (a webhook, a send) but many callers publish at
once. Handing each record to ``AIOKafkaProducer.send`` costs tens of microseconds of Python per
record (FastStream's ``publish`` two to three times that, measured in ``make bench``), the
largest cost of ingest-api's hot path, so records are instead gathered across concurrent
callers and handed to the producer as one record batch per partition
(``create_batch``/``send_batch``). Each caller still returns only once every one of its records
is acknowledged. ingest-api and ingest-worker publish this way; it is also the verbatim
republisher of dead-letter replay (``publish_raw``: FastStream adds headers of its own to what it
sends).

A deadline (``ack_timeout_s``) is kept per round, not per caller: a timer per call cost
ingest-api about 4 µs of its ~180 µs per webhook. A caller therefore hears within twice the
deadline (its round may queue behind one that is timing out).
"""

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from bus import tracecontext
from bus.batching import Pending, TopicPartition, plan
from bus.publisher import Outgoing, PublisherBase, headers_for, partition_for, placement
from config.shared import KafkaSettings
from contracts.codec import encode
from telemetry import tracing

Ack = asyncio.Future[object]  # a batch's delivery future, from ``send_batch``


class RoundPublisher(PublisherBase):
    def __init__(
        self,
        settings: KafkaSettings,
        *,
        ack_timeout_s: float | None = None,
        linger_s: float = 0.0,
        small_round: int = 4,
    ) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=settings.bootstrap,
            client_id=settings.client_id,
            acks="all",
            enable_idempotence=settings.idempotent,
            linger_ms=0,  # rounds gather records already
            request_timeout_ms=settings.request_timeout_ms,
            max_batch_size=256 * 1024,
            partitioner=placement,
        )
        self._ack_timeout_s = ack_timeout_s
        self._linger_s = linger_s
        self._small_round = small_round
        self._queue: list[Pending] = []
        self._wakeup = asyncio.Event()
        self._enough = asyncio.Event()  # a lingering round has enough callers
        self._flusher: asyncio.Task[None] | None = None
        self._closing = False

    async def start(self) -> None:
        await self._producer.start()
        self._closing = False
        self._flusher = asyncio.create_task(self._flush_forever(), name="publisher-flush")

    async def stop(self) -> None:
        if self._flusher is not None:
            # what callers handed over before stop still goes out
            self._closing = True
            self._wakeup.set()
            await self._flusher
            self._flusher = None
        await self._producer.stop()

    async def publish_many(self, items: Sequence[Outgoing]) -> None:
        """Return once the broker has acknowledged every item; raise if any was refused or
        (``TimeoutError``) not acknowledged by the deadline, in which case an item may still
        reach the topic. Items of one call keep their order within each partition."""
        if not items:
            return
        if self._flusher is None or self._flusher.done():
            raise RuntimeError("the publisher is not running")
        if tracing.active:
            await self._publish_traced(items)
            return
        pending = Pending(
            records=[
                (
                    item.topic,
                    item.key.encode() if item.key is not None else None,
                    encode(item.event),
                    headers_for(item.event),
                )
                for item in items
            ],
            done=asyncio.get_running_loop().create_future(),
        )
        await self._submit(pending)

    async def _submit(self, pending: Pending) -> None:
        self._queue.append(pending)
        self._wakeup.set()
        if len(self._queue) >= self._small_round:
            self._enough.set()
        # A caller that gives up (a timeout cancels ``done``) stops waiting; its records still
        # go out with the round they were queued for.
        await pending.done

    async def _publish_traced(self, items: Sequence[Outgoing]) -> None:
        """``publish_many`` with a PRODUCER span per item (``bus.tracecontext``), ended once
        the round holding it is acknowledged."""
        spans, records = [], []
        for item in items:
            span, headers = tracecontext.publish_span(
                item.topic, item.event, headers_for(item.event)
            )
            spans.append(span)
            key = item.key.encode() if item.key is not None else None
            records.append((item.topic, key, encode(item.event), headers))
        pending = Pending(records=records, done=asyncio.get_running_loop().create_future())
        error: BaseException | None = None
        try:
            await self._submit(pending)
        except BaseException as exc:
            error = exc
            raise
        finally:
            tracing.end(spans, error)

    async def publish_raw(
        self, topic: str, value: bytes, key: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None:
        """Re-publish a record verbatim (dead-letter replay)."""
        await self._producer.send_and_wait(topic, value=value, key=key, headers=headers)

    async def _flush_forever(self) -> None:
        """One round at a time: while a round's batches are in flight, new callers queue up,
        so a round grows with the load (a few records when idle, hundreds when busy) and the
        per-record cost of the producer is paid once per batch. aiokafka keeps one produce
        request in flight per broker anyway, so waiting for the acks costs no throughput.
        (Handing the next round over before the acks, to wait in aiokafka's accumulator, made
        rounds smaller and cost ingest-api a tenth of its throughput.)"""
        while not (self._closing and not self._queue):
            await self._wakeup.wait()
            if self._linger_s and len(self._queue) < self._small_round and not self._closing:
                # Under a light, steady load each caller would be alone in its round and pay a
                # produce request, in this process and in the broker. So a small round waits
                # up to the linger for company, and goes as soon as it has enough; under heavy
                # load rounds are large already and go out at once.
                self._enough.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._linger_s):
                        await self._enough.wait()
            self._wakeup.clear()
            queued, self._queue = self._queue, []
            if not queued:
                continue
            loop = asyncio.get_running_loop()
            deadline = None if self._ack_timeout_s is None else loop.time() + self._ack_timeout_s
            try:
                async with asyncio.timeout_at(deadline):
                    acks = await self._hand_over(queued)
            except TimeoutError:
                _fail(queued, TimeoutError(f"not handed over within {self._ack_timeout_s} s"))
                continue
            except Exception as exc:  # refused before sending: nothing was acknowledged
                _fail(queued, exc)
                continue
            await _settle(queued, acks, deadline)

    async def _hand_over(self, queued: list[Pending]) -> dict[TopicPartition, list[Ack]]:
        """Hand ``queued`` to the producer, one batch per topic-partition (more if one would
        exceed the batch size); the futures of each partition's batches."""
        counts = {
            topic: len(await self._producer.partitions_for(topic))
            for topic in {record[0] for p in queued for record in p.records}
        }
        acks: dict[TopicPartition, list[Ack]] = defaultdict(list)
        for (topic, partition), records in plan(queued, counts, partition_for).items():
            batch = self._producer.create_batch()
            for key, value, headers in records:
                if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
                    acks[topic, partition].append(await self._send(batch, topic, partition))
                    batch = self._producer.create_batch()
                    batch.append(key=key, value=value, timestamp=None, headers=headers)
            acks[topic, partition].append(await self._send(batch, topic, partition))
        return acks

    async def _send(self, batch: object, topic: str, partition: int) -> Ack:
        future: Ack = await self._producer.send_batch(batch, topic, partition=partition)
        return future


async def _settle(
    queued: list[Pending], acks: dict[TopicPartition, list[Ack]], deadline: float | None
) -> None:
    """Resolve each caller once the batches holding its records are acknowledged, or fail it
    at the deadline."""
    loop = asyncio.get_running_loop()
    timeout = None if deadline is None else max(0.0, deadline - loop.time())
    # ``wait``, not ``gather``: giving up at the deadline leaves the producer's futures alone.
    await asyncio.wait([f for futures in acks.values() for f in futures], timeout=timeout)
    failed: dict[TopicPartition, BaseException] = {}
    for tp, futures in acks.items():
        for f in futures:
            if not f.done():
                failed[tp] = TimeoutError("not acknowledged in time")
            elif f.cancelled():
                failed[tp] = asyncio.CancelledError("the producer dropped the batch")
            elif (error := f.exception()) is not None:
                failed[tp] = error
    for p in queued:
        if p.done.done():
            continue
        error = next((failed[tp] for tp in p.placed if tp in failed), None)
        if error is None:
            p.done.set_result(None)
        else:
            p.done.set_exception(error)


def _fail(queued: list[Pending], error: BaseException) -> None:
    for p in queued:
        if not p.done.done():
            p.done.set_exception(error)
