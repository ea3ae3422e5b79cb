"""ingest-worker: consume ``omni.inbound`` in batches, persist, publish downstream, commit.

Thin: the work is ``batch.apply_batch`` (SQL in ``persist``); offsets are committed by the
BatchConsumer only after this handler returns, i.e. after commit and publish.
"""

import asyncio
import signal
from collections.abc import Sequence

import asyncpg
import structlog

from bus.consumer import BatchConsumer, ConsumerOptions, Handler, Received
from bus.publisher import PublisherBase
from bus.retrying import waiting_on_infrastructure
from bus.rounds import RoundPublisher
from config.shared import DatabaseSettings, KafkaSettings
from contracts import topics
from db.pool import create_pool
from ingest.batch import apply_batch
from ingest.readiness import broker_reachable, database_reachable
from ingest.reconcile import run_reconciler
from ingest.settings import IngestSettings
from telemetry.ops import serve_ops

log = structlog.get_logger(__name__)


def persist_handler(
    pool: asyncpg.Pool, publisher: PublisherBase, *, concurrency: int, group: str
) -> Handler:
    async def handle(batch: Sequence[Received]) -> None:
        outgoing = await apply_batch(pool, batch, concurrency=concurrency, group=group)
        await publisher.publish_many(outgoing)

    return handle


async def run(
    settings: IngestSettings, db: DatabaseSettings, kafka: KafkaSettings, stop: asyncio.Event
) -> None:
    pool = await create_pool(db)
    # The round publisher, as ingest-api's: every inbound message publishes its realtime
    # events here, and FastStream's per-record publish doubled the webhook → websocket p50 at
    # 500 webhooks/s (bench/system.py's inbound step, A/B on one machine: 290-315 ms with
    # rounds, 490-580 ms with FastStream's publisher).
    publisher = RoundPublisher(kafka)
    await publisher.start()
    consumer = BatchConsumer(
        kafka,
        [topics.INBOUND],
        persist_handler(
            pool, publisher, concurrency=max(1, db.db_pool_max - 1), group=settings.group_id
        ),
        publisher,
        ConsumerOptions(
            group_id=settings.group_id,
            max_records=settings.batch_max,
            extra={
                "session_timeout_ms": settings.session_timeout_ms,
                "heartbeat_interval_ms": max(300, settings.session_timeout_ms // 4),
            },
        ),
    )

    async def ready() -> dict[str, bool]:
        return {
            "database": await database_reachable(pool),
            "broker": await broker_reachable(kafka),
            "handling": not waiting_on_infrastructure(settings.group_id),
        }

    try:
        await consumer.start()
        log.info("ingest-worker consuming", topic=topics.INBOUND, group=settings.group_id)
        async with asyncio.TaskGroup() as group:
            group.create_task(serve_ops(settings.ops_port, ready, stop))
            group.create_task(
                run_reconciler(
                    pool,
                    publisher,
                    stop,
                    interval_s=settings.reconcile_interval_s,
                    max_age_s=settings.parked_max_age_s,
                )
            )
            await consumer.run(stop)
    finally:
        await consumer.stop()
        await publisher.stop()
        await pool.close()
        log.info("ingest-worker stopped")


def stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
