"""Publish contract events to Kafka and wait for the broker's acknowledgement.

``acks=all`` always; the idempotent producer only where the broker supports it
(``KAFKA_IDEMPOTENT``: Apache Kafka yes, Tansu no). Correctness never depends on it:
every consumer is idempotent.
"""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType

from aiokafka import AIOKafkaProducer

from config.shared import KafkaSettings
from contracts.codec import encode
from contracts.envelope import Event


@dataclass(frozen=True)
class Outgoing:
    topic: str
    key: str | None
    event: Event


def headers_for(event: Event) -> list[tuple[str, bytes]]:
    headers = [("type", event.type.encode())] if hasattr(event, "type") else []
    if event.traceparent:
        headers.append(("traceparent", event.traceparent.encode()))
    return headers


class Publisher:
    def __init__(self, settings: KafkaSettings, *, linger_ms: int = 2) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=settings.bootstrap,
            client_id=settings.client_id,
            acks="all",
            enable_idempotence=settings.idempotent,
            linger_ms=linger_ms,
            request_timeout_ms=settings.request_timeout_ms,
            max_batch_size=256 * 1024,
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def __aenter__(self) -> "Publisher":
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def publish(self, topic: str, event: Event, key: str | None = None) -> None:
        await self.publish_many([Outgoing(topic, key, event)])

    async def publish_many(self, items: Sequence[Outgoing]) -> None:
        """Hand every record to the producer first, then wait for all acknowledgements, so
        one call costs one round of batches rather than one round trip per record."""
        futures = [
            await self._producer.send(
                item.topic,
                value=encode(item.event),
                key=item.key.encode() if item.key is not None else None,
                headers=headers_for(item.event),
            )
            for item in items
        ]
        await asyncio.gather(*futures)

    async def publish_raw(
        self, topic: str, value: bytes, key: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None:
        """Re-publish a record verbatim (dead-letter replay)."""
        await self._producer.send_and_wait(topic, value=value, key=key, headers=headers)
