"""Entry point ``dispatcher`` (``omni run dispatcher``): consume the outbound topic and send,
sweep stuck messages, serve /healthz /readyz /metrics on OPS_PORT, stop cleanly on SIGTERM:
every wait of a send (its number's pace, backoff, Retry-After, another attempt's claim) ends at
once, calls in flight are seen through, and records not finished stay uncommitted."""

import asyncio
import signal

import structlog
from aiobotocore.session import get_session

from bus.publisher import Publisher
from config import (
    CredentialSettings,
    DatabaseSettings,
    EgressSettings,
    KafkaSettings,
    LogSettings,
    S3Settings,
    TraceSettings,
    load,
)
from contracts import topics
from credentials import Vault
from db.pool import create_pool
from dispatcher.calls import ProviderCalls, RetryPolicy
from dispatcher.deps import Deps
from dispatcher.media import MediaLinks
from dispatcher.settings import DispatcherSettings
from dispatcher.sharedpace import SharedPace
from dispatcher.sweep import run_sweeps
from dispatcher.worker import outbound_consumer
from providers.http import create_client
from providers.registry import client as provider_client
from telemetry import logging as telemetry_logging
from telemetry import tracing
from telemetry.ops import serve_ops

log = structlog.get_logger(__name__)


async def run() -> None:
    settings = load(DispatcherSettings)
    kafka = load(KafkaSettings)
    s3_settings = load(S3Settings)
    telemetry_logging.configure(load(LogSettings), "dispatcher")
    tracing.setup(load(TraceSettings), "dispatcher")
    vault = Vault.from_settings(load(CredentialSettings))
    pool = await create_pool(load(DatabaseSettings))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    http = create_client(
        load(EgressSettings).policy(),
        connect_s=settings.http_connect_s,
        read_s=settings.http_read_s,
        write_s=settings.http_read_s,
        pool_s=settings.http_connect_s,
        max_connections=settings.concurrency * 2,
    )
    publisher = Publisher(kafka)
    await publisher.start()
    session = get_session()
    try:
        # Only used to sign links (no request is made), for the address providers can reach.
        async with session.create_client(
            "s3",
            endpoint_url=settings.media_public_endpoint or s3_settings.endpoint,
            region_name=s3_settings.region,
            aws_access_key_id=s3_settings.access_key.get_secret_value(),
            aws_secret_access_key=s3_settings.secret_key.get_secret_value(),
        ) as s3:
            deps = Deps(
                pool=pool,
                vault=vault,
                http=http,
                publisher=publisher,
                calls=ProviderCalls(
                    RetryPolicy(
                        max_attempts=settings.max_attempts,
                        initial_s=settings.retry_initial_s,
                        max_s=settings.retry_max_s,
                        max_hint_s=settings.max_retry_after_s,
                    ),
                    # One pace per number across every dispatcher process (sharedpace.py).
                    SharedPace(pool),
                    settings.concurrency,
                    stop,
                ),
                media=MediaLinks(s3, bucket=s3_settings.bucket, ttl_s=settings.media_url_ttl_s),
                client_for=provider_client,
                group_id=settings.group_id,
                default_rate_per_s=settings.default_rate_per_s,
                unknown_after_s=settings.unknown_after_s,
                stop=stop,
                record_retry_s=settings.record_retry_s,
            )
            await _serve(deps, settings, kafka, stop)
    finally:
        await publisher.stop()
        await http.aclose()
        await pool.close()
        log.info("dispatcher stopped")


async def _serve(
    deps: Deps, settings: DispatcherSettings, kafka: KafkaSettings, stop: asyncio.Event
) -> None:
    consumer = outbound_consumer(deps, kafka, deps.publisher, settings)

    async def ready() -> dict[str, bool]:
        async with deps.pool.acquire() as conn:
            db_ok = await conn.fetchval("SELECT true") is True
        return {"database": db_ok, "consumer": not consume.done()}

    await consumer.start()
    log.info("dispatcher consuming", topic=topics.OUTBOUND, group=settings.group_id)
    consume = asyncio.create_task(consumer.run(stop))
    sweeps = asyncio.create_task(run_sweeps(deps, settings, stop))
    ops = asyncio.create_task(serve_ops(settings.ops_port, ready, stop))
    try:
        # Returns after stop, once every lane has seen its call in flight through (waits end
        # at once) and what finished is committed.
        await consume
    finally:
        stop.set()
        await asyncio.gather(sweeps, ops, return_exceptions=True)
        await consumer.stop()


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
