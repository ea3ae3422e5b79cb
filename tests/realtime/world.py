"""A tenant's integration, contact and conversation, and inbound messages produced the way
ingest does it: row + realtime_log.record in one transaction, publish after commit."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import asyncpg

from bus.publisher import Outgoing, Publisher
from contracts import topics
from contracts.realtime import ConversationUpdated, MessageCreated
from credentials import Vault
from db.provision import insert_integration
from db.realtime_log import numbered, record
from db.snapshots import message_view
from db.tenant import tenant_tx
from realtime.store import conversations, messages
from realtime.views import conversation_view


@dataclass(frozen=True)
class World:
    tenant_id: UUID
    integration_id: UUID
    conversation_id: UUID
    chat_id: str


async def make_world(
    pool: asyncpg.Pool, vault: Vault, tenant_id: UUID, *, inbound_hours_ago: float | None = 1
) -> World:
    chat_id = f"55119{uuid4().int % 10**8:08d}"
    last_inbound = (
        datetime.now(UTC) - timedelta(hours=inbound_hours_ago)
        if inbound_hours_ago is not None
        else None
    )
    async with tenant_tx(pool, tenant_id) as conn:
        integration = await insert_integration(
            conn,
            vault,
            tenant_id=tenant_id,
            provider="meta",
            external_account_id=f"pn-{uuid4().hex[:12]}",
            credentials={"access_token": "secret-token", "app_secret": "app-secret"},
        )
        contact_id = await conn.fetchval(
            "INSERT INTO contacts (tenant_id, integration_id, external_id, phone, display_name) "
            "VALUES ($1, $2, $3, $3, 'Ana') RETURNING id",
            tenant_id,
            integration["id"],
            chat_id,
        )
        conversation_id = await conn.fetchval(
            "INSERT INTO conversations (tenant_id, integration_id, contact_id, last_inbound_at, "
            "last_inbound_provider_message_id, unread_count) "
            "VALUES ($1, $2, $3, $4, $5, 2) RETURNING id",
            tenant_id,
            integration["id"],
            contact_id,
            last_inbound,
            f"wamid.{uuid4().hex}" if last_inbound else None,
        )
    return World(tenant_id, integration["id"], conversation_id, chat_id)


async def inbound(
    pool: asyncpg.Pool,
    publisher: Publisher,
    world: World,
    text: str,
    *,
    publish: bool = True,
    with_conversation: bool = False,
) -> list[MessageCreated | ConversationUpdated]:
    """One customer message. ``publish=False`` plays a producer that crashed after commit."""
    async with tenant_tx(pool, world.tenant_id) as conn:
        message_id = await conn.fetchval(
            "INSERT INTO messages (tenant_id, conversation_id, integration_id, direction, type, "
            "status, provider_message_id, text) "
            "VALUES ($1, $2, $3, 'inbound', 'text', 'received', $4, $5) RETURNING id",
            world.tenant_id,
            world.conversation_id,
            world.integration_id,
            f"wamid.{uuid4().hex}",
            text,
        )
        rows = await messages.page_before(
            conn, conversation_id=world.conversation_id, limit=200, before=None
        )
        row = next(r for r in rows if r["id"] == message_id)
        events: list[MessageCreated | ConversationUpdated] = [
            MessageCreated(message=message_view(row))
        ]
        if with_conversation:
            conversation = await conversations.get(conn, conversation_id=world.conversation_id)
            assert conversation is not None
            events.append(ConversationUpdated(conversation=conversation_view(conversation)))
        recorded = await record(conn, world.tenant_id, events)
    stamped = await numbered(pool, recorded)
    if publish:
        await publisher.publish_many(
            [Outgoing(topics.REALTIME, str(world.tenant_id), e) for e in stamped]
        )
    return stamped
