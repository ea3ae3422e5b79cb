"""The object store away for 30 s loses nothing: media-worker waits the outage out (no dead
letter, the request stays uncommitted) and stores the attachment once the store is back.

The store is made to fail through a proxy in front of it (tests/faultproxy.py): the session's
S3 server, which other tests use, is never touched."""

import asyncio
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid4

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer

from bus.publisher import Publisher
from config.shared import KafkaSettings, S3Settings
from contracts import MediaRef, MessageType, Provider, topics
from credentials import Vault
from media import worker
from media.__main__ import provider_client
from media.attach import Attacher, RetryPolicy
from media.netguard import guarded_client
from media.storage import open_store
from providers.egress import EgressPolicy
from simulator import media as sim_media
from simulator.control import SimControl
from simulator.server import RunningSimulator
from tests.faultproxy import FaultProxy
from tests.media import rows
from tests.media.conftest import credentials_for

OUTAGE_S = 30.0

pytestmark = pytest.mark.timeout(300)


async def _dead_lettered(settings: KafkaSettings, message_id: UUID) -> bool:
    consumer = AIOKafkaConsumer(
        topics.DEADLETTER,
        bootstrap_servers=settings.bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=3000, max_records=100_000)
        return any(str(message_id).encode() in r.value for rs in batches.values() for r in rs)
    finally:
        await consumer.stop()


async def _state(pool: asyncpg.Pool, tenant_id: UUID, message_id: UUID) -> Any:
    return (await rows.message_row(pool, tenant_id, message_id))["media_state"]


async def test_media_is_stored_once_the_store_is_back(
    s3_settings: S3Settings,
    kafka_settings: KafkaSettings,
    app_pool: asyncpg.Pool,
    vault: Vault,
    publisher: Publisher,
    media_sim: RunningSimulator,
    sim_control: SimControl,
    make_tenant: Callable[..., Any],
) -> None:
    tenant_id = await make_tenant()
    account = f"acct-{uuid4().hex[:12]}"
    await sim_control.register(Provider.META, account, access_token="tok")
    integration_id = await rows.integration(
        app_pool,
        vault,
        tenant_id,
        provider=Provider.META,
        base_url=sim_control.base_url,
        credentials=credentials_for("meta", account),
        account=account,
    )
    media_id = sim_media.media_id("image/jpeg", 50_000, f"store-down-{tenant_id.hex[:8]}")
    inbound = await rows.inbound_media(
        app_pool,
        tenant_id,
        integration_id,
        provider=Provider.META,
        message_type=MessageType.IMAGE,
        ref=MediaRef(provider_ref=media_id, mime="image/jpeg"),
    )

    endpoint = urlsplit(s3_settings.endpoint or "")
    proxy = FaultProxy(endpoint.hostname or "127.0.0.1", endpoint.port or 80)
    await proxy.start()
    through = s3_settings.model_copy(update={"endpoint": f"http://127.0.0.1:{proxy.port}"})
    http = guarded_client(EgressPolicy.reaching(media_sim.base_url), read_s=5.0)
    stop = asyncio.Event()
    try:
        async with open_store(through) as store:
            deps = Attacher(
                pool=app_pool,
                store=store,
                vault=vault,
                http=http,
                publisher=publisher,
                clients=provider_client,
                retry=RetryPolicy(attempts=2, initial_s=0.05, max_s=0.2),
            )
            consumer = worker.consumer(kafka_settings, deps, publisher, concurrency=2, batch_size=8)
            await consumer.start()
            running = asyncio.create_task(consumer.run(stop))
            try:
                await proxy.refuse()
                await publisher.publish(
                    topics.MEDIA, inbound.request(), key=str(inbound.message_id)
                )
                await asyncio.sleep(OUTAGE_S)
                assert await _state(app_pool, tenant_id, inbound.message_id) == "pending"
                await proxy.restore()
                async with asyncio.timeout(120):
                    while await _state(app_pool, tenant_id, inbound.message_id) != "stored":  # noqa: ASYNC110
                        await asyncio.sleep(0.5)
            finally:
                stop.set()
                await asyncio.wait_for(running, 60)
                await consumer.stop()
    finally:
        await http.aclose()
        await proxy.stop()
    row = await rows.message_row(app_pool, tenant_id, inbound.message_id)
    assert row["media_sha256"] == sim_media.expected_sha256(media_id)
    assert not await _dead_lettered(kafka_settings, inbound.message_id)
