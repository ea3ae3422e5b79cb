"""Entry points: ``media-worker`` (consumer, ops endpoints on OPS_PORT) and ``media-api`` (HTTP
on MEDIA_HOST:MEDIA_PORT, ops endpoints on OPS_PORT). Each reads its settings from the
environment and stops gracefully on SIGTERM: the worker finishes the batch in hand and commits
it, the API its requests."""

import asyncio
import contextlib
import signal
from collections.abc import Mapping
from typing import Any

import httpx
import structlog

from bus.publisher import Publisher
from bus.retrying import waiting_on_infrastructure
from config import (
    AuthSettings,
    CredentialSettings,
    DatabaseSettings,
    EgressSettings,
    KafkaSettings,
    LogSettings,
    S3Settings,
    TraceSettings,
    load,
)
from credentials import Vault
from db.pool import create_pool
from media import retries
from media import worker as consumer_module
from media.api import create_app
from media.attach import Attacher, RetryPolicy
from media.netguard import guarded_client
from media.settings import MediaSettings
from media.storage import open_store
from providers.base import ProviderClient
from providers.registry import client
from telemetry import tracing
from telemetry.httpguard import public_config
from telemetry.logging import configure
from telemetry.ops import serve_ops, serve_with_ops

log = structlog.get_logger(__name__)

# How long media-api gives a request to arrive whole (``telemetry.httpguard``): uploads reach
# 100 MB, and ten minutes is ~170 KB/s, a slow mobile link.
UPLOAD_DEADLINE_S = 600.0


def provider_client(
    provider: str, credentials: Mapping[str, Any], http: httpx.AsyncClient, base_url: str | None
) -> ProviderClient:
    """The adapter of one integration, over the worker's guarded HTTP client."""
    return client(provider, credentials, http, base_url=base_url)


async def _run_worker(settings: MediaSettings) -> None:
    database, kafka, s3 = load(DatabaseSettings), load(KafkaSettings), load(S3Settings)
    vault = Vault.from_settings(load(CredentialSettings))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    pool = await create_pool(database)
    try:
        async with contextlib.AsyncExitStack() as stack:
            store = await stack.enter_async_context(open_store(s3, part_size=settings.part_size))
            http = guarded_client(
                load(EgressSettings).policy(),
                connect_s=settings.connect_timeout_s,
                read_s=settings.read_timeout_s,
            )
            stack.push_async_callback(http.aclose)
            publisher = Publisher(kafka)
            await publisher.start()
            stack.push_async_callback(publisher.stop)
            deps = Attacher(
                pool=pool,
                store=store,
                vault=vault,
                http=http,
                publisher=publisher,
                clients=provider_client,
                retry=RetryPolicy(
                    settings.fetch_attempts,
                    settings.retry_initial_s,
                    settings.retry_max_s,
                    later_s=settings.retry_later_s,
                    for_s=settings.retry_for_s,
                ),
            )
            consumer = consumer_module.consumer(
                kafka.model_copy(
                    update={
                        "fetch_max_wait_ms": max(kafka.fetch_max_wait_ms, settings.poll_wait_ms)
                    }
                ),
                deps,
                publisher,
                concurrency=settings.concurrency,
                batch_size=settings.batch_size,
            )
            await consumer.start()
            stack.push_async_callback(consumer.stop)

            async def ready() -> dict[str, bool]:
                return {
                    "database": await pool.fetchval("SELECT 1") == 1,
                    "store": await store.ready(),
                    "handling": not waiting_on_infrastructure(consumer_module.GROUP),
                }

            ops = asyncio.create_task(serve_ops(settings.ops_port, ready, stop))
            retrier = asyncio.create_task(
                retries.run_retrier(pool, publisher, stop, interval_s=settings.retry_scan_s)
            )
            log.info("media-worker consuming", ops_port=settings.ops_port)
            try:
                await consumer.run(stop)
            finally:
                stop.set()
                await asyncio.gather(ops, retrier)
    finally:
        await pool.close()
        log.info("media-worker stopped")


def worker() -> None:
    configure(load(LogSettings), "media-worker")
    tracing.setup(load(TraceSettings), "media-worker")
    asyncio.run(_run_worker(load(MediaSettings)))


async def _run_api(settings: MediaSettings) -> None:
    app = create_app(settings, load(AuthSettings), load(DatabaseSettings), load(S3Settings))
    public = public_config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        deadline_s=UPLOAD_DEADLINE_S,
    )
    log.info("media-api listening", host=settings.host, port=settings.port, ops=settings.ops_port)
    # On SIGTERM: stop accepting, finish requests in flight, run the lifespan.
    await serve_with_ops(public, app.state.ops, settings.ops_port)
    log.info("media-api stopped")


def api() -> None:
    configure(load(LogSettings), "media-api")
    tracing.setup(load(TraceSettings), "media-api")
    asyncio.run(_run_api(load(MediaSettings)))


if __name__ == "__main__":
    worker()
