"""CPU per record of each way to publish, in this process, against the run's broker: aiokafka's
``send`` (the floor), FastStream's ``publish`` (what the services use, ``bus.publisher``) and the
round publisher (``bus.rounds``, ingest-api's), with 64 concurrent callers as ingest-api has.

Process CPU time, not wall time: the broker shares the machine, and what a publisher costs the
service is its own CPU. Each is measured over the same records, three times; the median.

The records go to a topic of their own, with the partitions of ``omni.media`` whose events
they are: on ``omni.media`` itself, the media-worker of the system measured next would spend
the outbound steps looking up their ~70,000 made-up messages."""

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream.kafka import KafkaBroker

from bus.publisher import Outgoing, Publisher
from bus.rounds import RoundPublisher
from config.shared import KafkaSettings
from contracts import MediaFetchRequested, MediaRef, MessageType, Provider, topics
from contracts.codec import encode

CALLERS = 64


def _events(n: int) -> list[MediaFetchRequested]:
    from uuid import uuid4

    return [
        MediaFetchRequested(
            tenant_id=uuid4(),
            message_id=uuid4(),
            conversation_id=uuid4(),
            integration_id=uuid4(),
            provider=Provider.META,
            message_type=MessageType.IMAGE,
            media=MediaRef(provider_ref=f"bench-{i}", mime="image/jpeg"),
        )
        for i in range(n)
    ]


async def _cpu_us(records: int, run: Callable[[], Awaitable[None]]) -> float:
    started = time.process_time()
    await run()
    return round((time.process_time() - started) / records * 1e6, 1)


class _Publisher(Publisher):
    """The services' publisher, with the bench's topic beside the product's."""

    def __init__(self, settings: KafkaSettings, topic: str) -> None:
        super().__init__(settings)
        schema = topics.BY_NAME[topics.MEDIA].schema
        self._topics[topic] = self._broker.publisher(topic, schema=schema)


async def _bench_topic(bootstrap: str) -> str:
    name = f"bench.publish-cost.{int(time.time())}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, topics.BY_NAME[topics.MEDIA].partitions, 1)])
    finally:
        await admin.close()
    return name


async def measure(bootstrap: str, records: int = 20_000) -> dict[str, Any]:
    settings = KafkaSettings(bootstrap=bootstrap)
    topic = await _bench_topic(bootstrap)
    events = _events(records)
    values = [(encode(e), str(e.message_id).encode()) for e in events]
    raw = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", max_batch_size=256 * 1024)
    stream = KafkaBroker(bootstrap, acks="all", max_batch_size=256 * 1024, logger=None)

    async def aiokafka_send() -> None:
        acks = [await raw.send(topic, v, key=k) for v, k in values]
        await asyncio.gather(*acks)

    async def faststream_publish() -> None:
        acks = [await stream.publish(v, topic, key=k, no_confirm=True) for v, k in values]
        await asyncio.gather(*acks)

    async def callers(publisher: Publisher | RoundPublisher) -> None:
        share = [events[i::CALLERS] for i in range(CALLERS)]

        async def one(mine: list[MediaFetchRequested]) -> None:
            for event in mine:
                await publisher.publish_many([Outgoing(topic, str(event.message_id), event)])

        await asyncio.gather(*(one(mine) for mine in share))

    await raw.start()
    await stream.connect()
    found: dict[str, list[float]] = {}
    try:
        async with _Publisher(settings, topic) as publisher, RoundPublisher(settings) as rounds:
            for _ in range(3):
                for name, run in (
                    ("aiokafka_send", aiokafka_send),
                    ("faststream_publish", faststream_publish),
                    ("publisher_64_callers", lambda: callers(publisher)),
                    ("round_publisher_64_callers", lambda: callers(rounds)),
                ):
                    found.setdefault(name, []).append(await _cpu_us(records, run))
    finally:
        await stream.stop()
        await raw.stop()
    return {"records": records, **{f"{k}_us": statistics.median(v) for k, v in found.items()}}


if __name__ == "__main__":
    import sys

    print(asyncio.run(measure(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20_000)))
