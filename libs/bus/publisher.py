"""Publish contract events to Kafka through FastStream and wait for the broker's acknowledgement.

Services publish through ``Publisher``: FastStream's publisher per topic, declared on a
producer-only broker (the same topics ``bus.asyncapi`` documents). ``acks=all`` always; the
idempotent producer only where the broker supports it (``KAFKA_IDEMPOTENT``: Apache Kafka yes,
Tansu no). Correctness never depends on it: every consumer is idempotent.

The inbound path (ingest-api, ingest-worker) publishes through ``bus.rounds.RoundPublisher``
instead, which hands the records of concurrent callers to the producer as one batch per
partition: FastStream's ``publish`` costs two to three times aiokafka's ``send`` per record,
and a batch append far less (``make bench`` shows ingest-api with both). Both keep each key on
Kafka's default partition, in the order it was published.
"""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import TracebackType
from typing import Any, Self

from aiokafka.partitioner import murmur2
from faststream.kafka import KafkaBroker

from bus import tracecontext
from config.shared import KafkaSettings
from contracts import topics
from contracts.codec import encode
from contracts.envelope import Event
from telemetry import tracing


@dataclass(frozen=True)
class Outgoing:
    topic: str
    key: str | None
    event: Event


@lru_cache(maxsize=256)
def _type_header(event_type: str) -> tuple[str, bytes]:
    return ("type", event_type.encode())


def headers_for(event: Event) -> list[tuple[str, bytes]]:
    event_type = getattr(event, "type", None)
    headers = [_type_header(event_type)] if event_type is not None else []
    if event.traceparent:
        headers.append(("traceparent", event.traceparent.encode()))
    return headers


@lru_cache(maxsize=65_536)
def partition_for(key: bytes, partitions: int) -> int:
    """Kafka's default placement (murmur2, as the Java client), cached: it is pure Python and
    one conversation's key recurs with every message of it."""
    placed: int = (murmur2(key) & 0x7FFFFFFF) % partitions
    return placed


def placement(key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
    """The producers' partitioner: Kafka's default placement, with ``partition_for``'s cache."""
    if key is None:
        return (available or all_partitions)[0]
    return all_partitions[partition_for(key, len(all_partitions))]


class PublisherBase:
    """What both publishers share: ``publish`` of one event, and use as a context manager."""

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    async def publish_many(self, items: Sequence[Outgoing]) -> None:
        raise NotImplementedError

    async def publish(self, topic: str, event: Event, key: str | None = None) -> None:
        await self.publish_many([Outgoing(topic, key, event)])

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


class Publisher(PublisherBase):
    """Events through FastStream publishers, one per topic."""

    def __init__(self, settings: KafkaSettings, *, ack_timeout_s: float | None = None) -> None:
        self._broker = KafkaBroker(
            settings.bootstrap,
            client_id=settings.client_id,
            acks="all",
            enable_idempotence=settings.idempotent,
            linger_ms=0,
            request_timeout_ms=settings.request_timeout_ms,
            max_batch_size=256 * 1024,
            partitioner=placement,
            logger=None,  # a line per record is noise; failures reach the caller
        )
        self._topics: dict[str, Any] = {
            topic.name: self._broker.publisher(topic.name, schema=topic.schema)
            for topic in topics.ALL
        }
        self._ack_timeout_s = ack_timeout_s

    async def start(self) -> None:
        await self._broker.connect()

    async def stop(self) -> None:
        await self._broker.stop()  # flushes what was handed over

    async def publish_many(self, items: Sequence[Outgoing]) -> None:
        """Return once the broker has acknowledged every item; raise if any was refused or
        (``TimeoutError``) not acknowledged by the deadline, in which case an item may still
        reach the topic. Items of one call keep their order within each partition: each is
        handed over before the next, and all are awaited together."""
        if tracing.active:
            await self._publish_traced(items)
            return
        acks = []
        for item in items:
            headers = {name: value.decode() for name, value in headers_for(item.event)}
            acks.append(await self._hand_over(item, headers))
        if acks:
            async with asyncio.timeout(self._ack_timeout_s):
                await asyncio.gather(*acks)

    async def _hand_over(self, item: Outgoing, headers: dict[str, str]) -> Any:
        return await self._topics[item.topic].publish(
            encode(item.event),
            key=item.key.encode() if item.key is not None else None,
            headers=headers,
            no_confirm=True,
        )

    async def _publish_traced(self, items: Sequence[Outgoing]) -> None:
        """``publish_many`` with a PRODUCER span per item (``bus.tracecontext``)."""
        spans, acks = [], []
        error: BaseException | None = None
        try:
            for item in items:
                span, headers = tracecontext.publish_span(
                    item.topic, item.event, headers_for(item.event)
                )
                spans.append(span)
                acks.append(await self._hand_over(item, {n: v.decode() for n, v in headers}))
            if acks:
                async with asyncio.timeout(self._ack_timeout_s):
                    await asyncio.gather(*acks)
        except BaseException as exc:
            error = exc
            raise
        finally:
            tracing.end(spans, error)
