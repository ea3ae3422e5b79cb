"""The stuck-message sweep over real Postgres and the broker: no message stays queued forever."""

import asyncio
from typing import Any
from uuid import UUID

import asyncpg
from aiokafka import AIOKafkaConsumer

from config.shared import KafkaSettings
from contracts import Provider, SendRequested, topics
from contracts.codec import decode
from contracts.outbound import OutboundText
from credentials import Vault
from db.tenant import tenant_tx
from dispatcher.deps import Deps
from dispatcher.settings import DispatcherSettings
from dispatcher.sweep import sweep_tenant
from tests.dispatcher.conftest import read_topic
from tests.dispatcher.outbound import (
    make_conversation,
    make_integration,
    message_row,
    queue_message,
)


async def _age(pool: asyncpg.Pool, tenant_id: UUID, message_id: UUID, **ago_s: float) -> None:
    async with tenant_tx(pool, tenant_id) as conn:
        for column, seconds in ago_s.items():
            await conn.execute(
                f"UPDATE messages SET {column} = now() - make_interval(secs => $2) WHERE id = $1",
                message_id,
                seconds,
            )


async def _key_of(kafka_settings: KafkaSettings, message_id: UUID) -> bytes | None:
    """The key of the outbound record carrying ``message_id``'s send request."""
    consumer = AIOKafkaConsumer(
        topics.OUTBOUND,
        bootstrap_servers=kafka_settings.bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        async with asyncio.timeout(20):
            while True:
                for records in (await consumer.getmany(timeout_ms=300)).values():
                    for record in records:
                        event = decode(topics.OUTBOUND, record.value)
                        if isinstance(event, SendRequested) and event.message_id == message_id:
                            key: bytes | None = record.key
                            return key
    finally:
        await consumer.stop()


async def _queued_tenants(pool: asyncpg.Pool) -> set[UUID]:
    async with pool.acquire() as conn:
        return {r[0] for r in await conn.fetch("SELECT * FROM tenants_with_queued_outbound()")}


async def test_stuck_messages_are_republished_or_failed_and_the_tenant_is_forgotten(
    make_tenant: Any,
    app_pool: asyncpg.Pool,
    vault: Vault,
    kafka_settings: KafkaSettings,
    deps: Deps,
) -> None:
    tenant = await make_tenant()
    # Nothing listens there: these messages must never reach a provider from this test.
    integration = await make_integration(app_pool, vault, tenant, api_base_url="http://127.0.0.1:9")
    conversation = await make_conversation(app_pool, tenant, integration, "5511912345678")

    async def queued(body: str) -> SendRequested:
        return await queue_message(
            app_pool,
            tenant_id=tenant,
            conversation_id=conversation,
            integration_id=integration,
            provider=Provider.META,
            to="5511912345678",
            content=OutboundText(body=body),
        )

    fresh, lost, ancient, unknown = [await queued(b) for b in ("fresh", "lost", "old", "mid")]
    assert tenant in await _queued_tenants(app_pool)  # migration 0003's cross-tenant scan
    await _age(app_pool, tenant, lost.message_id, created_at=120)
    await _age(app_pool, tenant, ancient.message_id, created_at=3600)
    await _age(app_pool, tenant, unknown.message_id, created_at=3600, send_started_at=600)

    settings = DispatcherSettings(requeue_after_s=60, fail_after_s=900, unknown_after_s=300)
    # One tenant only: the session database holds other tests' queued messages too.
    assert await sweep_tenant(deps, settings, tenant) == 3

    republished = await read_topic(
        kafka_settings,
        topics.OUTBOUND,
        lambda e: isinstance(e, SendRequested) and e.message_id == lost.message_id,
        want=1,
    )
    # The gateway's key (tenant:integration:chat), so the copy joins its conversation's lane.
    assert await _key_of(kafka_settings, lost.message_id) == (
        f"{tenant}:{integration}:5511912345678".encode()
    )
    assert republished[0].content == lost.content and republished[0].to == lost.to
    assert republished[0].client_message_id == lost.client_message_id
    assert (await message_row(app_pool, tenant, lost.message_id))["status"] == "queued"
    assert (await message_row(app_pool, tenant, fresh.message_id))["status"] == "queued"
    old = await message_row(app_pool, tenant, ancient.message_id)
    assert (old["status"], old["error_code"]) == ("failed", "not_dispatched")
    mid = await message_row(app_pool, tenant, unknown.message_id)
    assert mid["status"] == "unknown" and "outcome unknown" in mid["error_reason"]

    # Once nothing is queued any more, the tenant is off the sweep's list.
    async with tenant_tx(app_pool, tenant) as conn:
        await conn.execute(
            "UPDATE messages SET status = 'failed' WHERE tenant_id = $1 AND status = 'queued'",
            tenant,
        )
    assert tenant not in await _queued_tenants(app_pool)
