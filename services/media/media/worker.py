"""media-worker's consumer: fetch requests from ``omni.media`` in small batches, each request
attached concurrently (bounded), offsets committed once the batch is durable.

Every start is counted in Postgres (``bus.deliveries``): a request that kills the worker (a
file that exhausts its memory, say) is dead-lettered after ``max_deliveries`` unfinished
starts instead of crash-looping the worker for every tenant."""

import asyncio
from collections.abc import Sequence

import structlog

from bus.consumer import BatchConsumer, ConsumerOptions, Handler, Received
from bus.deliveries import PostgresDeliveries
from bus.publisher import Publisher
from config.shared import KafkaSettings
from contracts import MediaFetchRequested, topics
from media.attach import Attacher, attach
from telemetry.trace import trace_id

GROUP = "media-worker"

log = structlog.get_logger(__name__)


def handler(deps: Attacher, concurrency: int) -> Handler:
    """The batch handler: every request of the batch, at most ``concurrency`` at a time."""
    limit = asyncio.Semaphore(concurrency)

    async def one(request: MediaFetchRequested) -> None:
        async with limit:
            with structlog.contextvars.bound_contextvars(trace_id=trace_id(request.traceparent)):
                await attach(deps, request)

    async def handle(batch: Sequence[Received]) -> None:
        async with asyncio.TaskGroup() as group:
            for received in batch:
                if isinstance(received.event, MediaFetchRequested):
                    group.create_task(one(received.event))

    return handle


def consumer(
    settings: KafkaSettings,
    deps: Attacher,
    publisher: Publisher,
    *,
    concurrency: int,
    batch_size: int,
    max_deliveries: int = 3,
) -> BatchConsumer:
    return BatchConsumer(
        settings,
        [topics.MEDIA],
        handler(deps, concurrency),
        publisher,
        ConsumerOptions(group_id=GROUP, max_records=batch_size, max_deliveries=max_deliveries),
        deliveries=PostgresDeliveries(deps.pool),
    )
