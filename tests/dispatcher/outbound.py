"""Rows the way the gateway writes them (integration, contact, conversation, a queued outbound
message whose ``content`` is the request), and the send requests it publishes."""

from typing import Any
from uuid import UUID, uuid4

import asyncpg

from contracts import MarkReadRequested, OutboundContent, Provider, SendRequested
from contracts.outbound import OutboundMedia, OutboundTemplate, OutboundText
from credentials import Vault
from db.provision import insert_integration
from db.tenant import tenant_tx
from dispatcher.content import message_type
from telemetry.trace import new_traceparent


async def make_integration(
    pool: asyncpg.Pool,
    vault: Vault,
    tenant_id: UUID,
    *,
    provider: Provider = Provider.META,
    credentials: dict[str, Any] | None = None,
    api_base_url: str | None = None,
    rate_limit_per_s: float | None = None,
    external_account_id: str | None = None,
) -> UUID:
    async with tenant_tx(pool, tenant_id) as conn:
        row = await insert_integration(
            conn,
            vault,
            tenant_id=tenant_id,
            provider=provider.value,
            external_account_id=external_account_id or f"acct-{uuid4().hex[:12]}",
            credentials=credentials or {"access_token": "t", "phone_number_id": "1"},
            api_base_url=api_base_url,
            rate_limit_per_s=rate_limit_per_s,
        )
    integration_id: UUID = row["id"]
    return integration_id


async def make_conversation(
    pool: asyncpg.Pool, tenant_id: UUID, integration_id: UUID, phone: str
) -> UUID:
    async with tenant_tx(pool, tenant_id) as conn:
        contact_id = await conn.fetchval(
            "INSERT INTO contacts (tenant_id, integration_id, external_id, phone) "
            "VALUES ($1, $2, $3, $3) RETURNING id",
            tenant_id,
            integration_id,
            phone,
        )
        conversation_id: UUID = await conn.fetchval(
            "INSERT INTO conversations (tenant_id, integration_id, contact_id, last_inbound_at) "
            "VALUES ($1, $2, $3, now()) RETURNING id",
            tenant_id,
            integration_id,
            contact_id,
        )
    return conversation_id


async def queue_message(
    pool: asyncpg.Pool,
    *,
    tenant_id: UUID,
    conversation_id: UUID,
    integration_id: UUID,
    provider: Provider,
    to: str,
    content: OutboundContent,
    reply_to: str | None = None,
) -> SendRequested:
    """Insert the queued row as the gateway does and return the request it would publish."""
    event = SendRequested(
        tenant_id=tenant_id,
        message_id=uuid4(),
        conversation_id=conversation_id,
        integration_id=integration_id,
        provider=provider,
        to=to,
        client_message_id=f"c-{uuid4().hex}",
        content=content,
        reply_to_provider_message_id=reply_to,
        traceparent=new_traceparent(),
    )
    text = content.body if isinstance(content, OutboundText) else None
    caption = content.caption if isinstance(content, OutboundMedia) else None
    if isinstance(content, OutboundTemplate):
        text = content.name
    async with tenant_tx(pool, tenant_id) as conn:
        await conn.execute(
            "INSERT INTO messages (id, tenant_id, conversation_id, integration_id, direction, "
            "type, status, client_message_id, text, caption, content, "
            "reply_to_provider_message_id, media_key, media_mime) "
            "VALUES ($1, $2, $3, $4, 'outbound', $5, 'queued', $6, $7, $8, $9, $10, $11, $12)",
            event.message_id,
            tenant_id,
            conversation_id,
            integration_id,
            message_type(content).value,
            event.client_message_id,
            text,
            caption,
            # What the gateway stores: the body of the agent's request.
            {
                "client_message_id": event.client_message_id,
                "content": content.model_dump(mode="json"),
                "reply_to_message_id": None,
            },
            reply_to,
            content.media_key if isinstance(content, OutboundMedia) else None,
            content.mime if isinstance(content, OutboundMedia) else None,
        )
    return event


def mark_read_request(
    *,
    tenant_id: UUID,
    conversation_id: UUID,
    integration_id: UUID,
    provider: Provider,
    chat_id: str,
    provider_message_id: str,
) -> MarkReadRequested:
    return MarkReadRequested(
        tenant_id=tenant_id,
        conversation_id=conversation_id,
        integration_id=integration_id,
        provider=provider,
        chat_id=chat_id,
        provider_message_id=provider_message_id,
    )


async def message_row(pool: asyncpg.Pool, tenant_id: UUID, message_id: UUID) -> asyncpg.Record:
    async with tenant_tx(pool, tenant_id) as conn:
        row = await conn.fetchrow("SELECT * FROM messages WHERE id = $1", message_id)
    assert row is not None
    return row


async def integration_row(
    pool: asyncpg.Pool, tenant_id: UUID, integration_id: UUID
) -> asyncpg.Record:
    async with tenant_tx(pool, tenant_id) as conn:
        row = await conn.fetchrow("SELECT * FROM integrations WHERE id = $1", integration_id)
    assert row is not None
    return row
