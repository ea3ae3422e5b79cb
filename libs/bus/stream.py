"""Kafka consumption on FastStream: one broker and one batch subscriber per consumer.

FastStream owns what every consumer needs and this project used to write by hand: the client's
lifecycle, subscribing (by group, or to fixed partitions), the poll loop, restarting the loop if
it crashes, and the AsyncAPI description of what is consumed (``bus.asyncapi``). What it does not
do is this project's delivery policy, so each consumer gives a ``BatchHandler`` that gets the
polled records as they came (grouped by partition, in order) with the underlying consumer, and
decides itself when to commit: after the batch is durable (``bus.consumer``), or up to the
lowest record still in a conversation's lane (the dispatcher). FastStream's own acknowledgement
is off (``AckPolicy.MANUAL``) because it commits everything polled, done or not.

``Subscription`` keeps the run contract the services had: ``start``, ``run(stop)`` until the
stop event (raising if a batch handler failed in a way the process must not survive), ``stop``.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka import TopicPartition as StreamPartition
from faststream.kafka.annotations import KafkaMessage

from config.shared import KafkaSettings
from telemetry import liveness

Batches = dict[TopicPartition, list[ConsumerRecord]]
BatchHandler = Callable[[AIOKafkaConsumer, Batches], Awaitable[None]]

# FastStream logs a line per message at this level; our own logs say what matters.
_ACCESS_LOG_LEVEL = logging.DEBUG


def kafka_broker(settings: KafkaSettings, **options: Any) -> KafkaBroker:
    """A FastStream broker for ``settings``. Graceful shutdown is ours (``Subscription.run``
    finishes the batch in hand), so FastStream's is off."""
    return KafkaBroker(
        settings.bootstrap,
        client_id=settings.client_id,
        request_timeout_ms=max(settings.request_timeout_ms, 40_000),
        graceful_timeout=None,
        logger=logging.getLogger("faststream"),
        log_level=_ACCESS_LOG_LEVEL,
        **options,
    )


async def _undecoded(message: Any, original: Any = None) -> Any:
    """Decoding is each consumer's (it dead-letters what does not decode, record by record):
    the polled message itself is handed over as the "body". Asked for as a ``KafkaMessage``
    parameter instead, FastStream resolves it through its context, a synchronous call that
    its dependency injection runs in a worker thread for every poll: ~3% of a consumer's CPU
    under load in thread hand-offs (py-spy)."""
    return message


@dataclass
class SubscriptionOptions:
    group_id: str | None  # None: no group, with ``partitions`` assigned
    max_records: int = 200
    # FastStream sleeps this long again after a poll that found nothing, and a record arriving
    # then waits it out: short, so an idle consumer answers within a few ms (25 polls/s idle).
    poll_timeout_ms: int = 20
    auto_offset_reset: str = "earliest"
    partitions: Sequence[TopicPartition] = ()
    listener: ConsumerRebalanceListener | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Subscription:
    """One FastStream batch subscriber under this project's run contract."""

    def __init__(
        self,
        settings: KafkaSettings,
        topic_names: Sequence[str],
        handler: BatchHandler,
        options: SubscriptionOptions,
        *,
        loop_name: str,
        stall_s: float,
    ) -> None:
        self._handler = handler
        self.loop_name = loop_name
        self._stall_s = stall_s
        self.broker = kafka_broker(settings, consumer_only=True)  # no producer: see bus.publisher
        self._failure: BaseException | None = None
        self._failed = asyncio.Event()
        self._stopping = False
        self._in_hand: float | None = None  # when the batch being handled was polled
        self._idle = asyncio.Event()
        self._idle.set()
        subscribe: dict[str, Any] = {
            "batch": True,
            "max_records": options.max_records,
            "batch_timeout_ms": options.poll_timeout_ms,
            "ack_policy": AckPolicy.MANUAL,
            "auto_offset_reset": options.auto_offset_reset,
            "fetch_max_wait_ms": settings.fetch_max_wait_ms,
            "decoder": _undecoded,
            **options.extra,
        }
        if options.partitions:
            partitions = [StreamPartition(tp.topic, tp.partition) for tp in options.partitions]
            self._subscriber = self.broker.subscriber(
                partitions=partitions, group_id=options.group_id, **subscribe
            )
        else:
            self._subscriber = self.broker.subscriber(
                *topic_names,
                group_id=options.group_id,
                listener=options.listener,
                **subscribe,
            )
        self._subscriber(self._on_batch)

    @property
    def consumer(self) -> AIOKafkaConsumer:
        consumer = self._subscriber.consumer
        assert consumer is not None, "start() first"
        return consumer

    async def start(self) -> None:
        await self.broker.start()
        liveness.watch(self.loop_name, stall_s=self._stall_s)

    async def stop(self) -> None:
        liveness.forget(self.loop_name)
        self._stopping = True
        await self.broker.stop()  # leaves the group, so partitions move at once

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop``; then the batch in hand is finished, and later ones are left uncommitted.
        Raises what made a batch handler fail: the process must restart, its batch uncommitted.
        """
        stopped = asyncio.create_task(stop.wait())
        failed = asyncio.create_task(self._failed.wait())
        try:
            while not (stop.is_set() or self._failed.is_set()):
                self._beat()
                await asyncio.wait({stopped, failed}, timeout=1.0)
        finally:
            stopped.cancel()
            failed.cancel()
        self._stopping = True
        if self._failure is not None:
            raise self._failure
        await self._idle.wait()

    def fail(self, exc: BaseException) -> None:
        """What the consumer's own tasks report: ``run`` raises it, nothing more is taken."""
        if self._failure is None:
            self._failure = exc
        self._failed.set()

    def _beat(self) -> None:
        """Alive while the poll loop runs and no batch is in hand for longer than allowed
        (a handler that waits on purpose, e.g. out an outage, beats itself)."""
        if not any(not task.done() for task in self._subscriber.tasks):
            return
        if self._in_hand is None or time.monotonic() - self._in_hand < self._stall_s:
            liveness.beat(self.loop_name)

    async def _on_batch(self, body: Any) -> None:
        message: KafkaMessage = body
        if self._failed.is_set():
            # Nothing later may be committed over the failed batch: hold the loop until the
            # process, told by run(), stops it.
            await asyncio.get_running_loop().create_future()
        if self._stopping:
            return  # left uncommitted, for whoever consumes next
        batches: Batches = {}
        for record in message.raw_message:
            batches.setdefault(TopicPartition(record.topic, record.partition), []).append(record)
        self._in_hand = time.monotonic()
        self._idle.clear()
        try:
            await self._handler(self.consumer, batches)
        except Exception as exc:
            self.fail(exc)
        finally:
            self._in_hand = None
            self._idle.set()
