"""Rows as the ingest worker writes them: an integration, a contact, a conversation and an
inbound media message in state ``pending`` with its provider reference."""

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from contracts import MediaFetchRequested, MediaRef, MessageType, Provider
from credentials import Vault
from db.provision import insert_integration
from db.tenant import tenant_tx


@dataclass(frozen=True)
class Inbound:
    tenant_id: UUID
    integration_id: UUID
    conversation_id: UUID
    message_id: UUID
    provider: Provider
    message_type: MessageType
    ref: MediaRef

    def request(self) -> MediaFetchRequested:
        return MediaFetchRequested(
            tenant_id=self.tenant_id,
            message_id=self.message_id,
            conversation_id=self.conversation_id,
            integration_id=self.integration_id,
            provider=self.provider,
            message_type=self.message_type,
            media=self.ref,
        )


async def integration(
    pool: asyncpg.Pool,
    vault: Vault,
    tenant_id: UUID,
    *,
    provider: Provider,
    base_url: str | None,
    credentials: dict[str, Any],
    account: str | None = None,
) -> UUID:
    async with tenant_tx(pool, tenant_id) as conn:
        row = await insert_integration(
            conn,
            vault,
            tenant_id=tenant_id,
            provider=provider.value,
            external_account_id=account or f"acct-{uuid4().hex[:16]}",
            credentials=credentials,
            api_base_url=base_url,
        )
    integration_id: UUID = row["id"]
    return integration_id


async def inbound_media(
    pool: asyncpg.Pool,
    tenant_id: UUID,
    integration_id: UUID,
    *,
    provider: Provider,
    message_type: MessageType,
    ref: MediaRef,
) -> Inbound:
    async with tenant_tx(pool, tenant_id) as conn:
        contact_id = await conn.fetchval(
            "INSERT INTO contacts (tenant_id, integration_id, external_id, phone, display_name) "
            "VALUES ($1, $2, $3, $3, 'Ana') RETURNING id",
            tenant_id,
            integration_id,
            f"55119{uuid4().int % 10**8:08d}",
        )
        conversation_id = await conn.fetchval(
            "INSERT INTO conversations (tenant_id, integration_id, contact_id) "
            "VALUES ($1, $2, $3) RETURNING id",
            tenant_id,
            integration_id,
            contact_id,
        )
        message_id = await conn.fetchval(
            """
            INSERT INTO messages (tenant_id, conversation_id, integration_id, direction, type,
                status, provider_message_id, sender_name, caption, media_state,
                media_provider_ref, media_mime, media_size, media_sha256, media_filename)
            VALUES ($1, $2, $3, 'inbound', $4, 'received', $5, 'Ana', 'look', 'pending',
                $6, $7, $8, $9, $10)
            RETURNING id
            """,
            tenant_id,
            conversation_id,
            integration_id,
            message_type.value,
            f"wamid.{uuid4().hex}",
            ref.provider_ref,
            ref.mime,
            ref.size,
            ref.sha256,
            ref.filename,
        )
    return Inbound(
        tenant_id, integration_id, conversation_id, message_id, provider, message_type, ref
    )


async def message_row(pool: asyncpg.Pool, tenant_id: UUID, message_id: UUID) -> asyncpg.Record:
    async with tenant_tx(pool, tenant_id) as conn:
        row = await conn.fetchrow("SELECT * FROM messages WHERE id = $1", message_id)
    assert row is not None
    return row
