"""SQL for inbound messages, reactions, statuses and the webhook audit log.

One named function per query; the caller passes a connection whose transaction is bound to
the tenant (``db.tenant.tenant_tx``), so row-level security checks every row. Deduplication
and forward-only status live in the SQL (ON CONFLICT, rank comparison in the WHERE), and each
function tells its caller whether it changed anything, so a redelivered event can be told
apart from a new one.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from contracts import MessageStatus, WebhookRecorded
from contracts.inbound import InboundMessage, MediaRef
from db.tenant import Connection


async def upsert_contact(
    conn: Connection,
    *,
    tenant_id: UUID,
    integration_id: UUID,
    external_id: str,
    phone: str | None,
    lid: str | None,
    display_name: str | None,
) -> asyncpg.Record:
    """The contact of a chat; a newer profile name (or phone/lid) replaces the stored one."""
    row = await conn.fetchrow(
        """
        INSERT INTO contacts AS c (tenant_id, integration_id, external_id, phone, lid, display_name)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (integration_id, external_id) DO UPDATE SET
            phone = COALESCE(EXCLUDED.phone, c.phone),
            lid = COALESCE(EXCLUDED.lid, c.lid),
            display_name = COALESCE(EXCLUDED.display_name, c.display_name)
        RETURNING id, display_name, phone
        """,
        tenant_id,
        integration_id,
        external_id,
        phone,
        lid,
        display_name,
    )
    assert row is not None
    return row


async def conversation_id_for(
    conn: Connection, *, tenant_id: UUID, integration_id: UUID, contact_id: UUID
) -> UUID:
    """The conversation with a contact, created on first contact."""
    conversation_id: UUID | None = await conn.fetchval(
        """
        WITH created AS (
            INSERT INTO conversations (tenant_id, integration_id, contact_id)
            VALUES ($1, $2, $3)
            ON CONFLICT (integration_id, contact_id) DO NOTHING
            RETURNING id
        )
        SELECT id FROM created
        UNION ALL
        SELECT id FROM conversations WHERE integration_id = $2 AND contact_id = $3
        LIMIT 1
        """,
        tenant_id,
        integration_id,
        contact_id,
    )
    if conversation_id is None:  # created concurrently by another transaction: retried
        raise LookupError(f"conversation with contact {contact_id} not visible yet")
    return conversation_id


async def insert_inbound_message(
    conn: Connection,
    *,
    tenant_id: UUID,
    integration_id: UUID,
    conversation_id: UUID,
    message: InboundMessage,
    content: dict[str, Any],
    media: MediaRef | None,
) -> asyncpg.Record | None:
    """The new message row, or None when (integration, provider message id) already exists."""
    outbound = message.from_me or message.direction == "outbound_echo"
    return await conn.fetchrow(
        """
        INSERT INTO messages (
            tenant_id, conversation_id, integration_id, direction, type, status,
            provider_message_id, sender_name, text, caption, content,
            reply_to_provider_message_id, reply_to_message_id,
            media_state, media_provider_ref, media_mime, media_size, media_sha256, media_filename,
            provider_timestamp, sent_at)
        VALUES (
            $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
            (SELECT id FROM messages WHERE integration_id = $3 AND provider_message_id = $12),
            CASE WHEN $13::text IS NULL THEN NULL ELSE 'pending' END,
            $13, $14, $15, $16, $17, $18::timestamptz,
            CASE WHEN $4 = 'outbound' THEN $18::timestamptz END)
        ON CONFLICT (integration_id, provider_message_id) WHERE provider_message_id IS NOT NULL
        DO NOTHING
        RETURNING *
        """,
        tenant_id,
        conversation_id,
        integration_id,
        "outbound" if outbound else "inbound",
        message.type.value,
        MessageStatus.SENT.value if outbound else MessageStatus.RECEIVED.value,
        message.provider_message_id,
        message.sender.display_name,
        message.text,
        message.caption,
        content,
        message.reply_to_provider_message_id,
        media.provider_ref if media else None,
        media.mime if media else None,
        media.size if media else None,
        media.sha256 if media else None,
        media.filename if media else None,
        message.sent_at,
    )


async def message_by_provider_id(
    conn: Connection, *, integration_id: UUID, provider_message_id: str
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM messages WHERE integration_id = $1 AND provider_message_id = $2",
        integration_id,
        provider_message_id,
    )


async def touch_conversation(
    conn: Connection,
    *,
    conversation_id: UUID,
    preview: str,
    at: datetime,
    inbound: bool,
    provider_message_id: str,
) -> asyncpg.Record:
    """Denormalize a new message into its conversation. A message older than the latest one
    (providers deliver out of order) counts as unread but does not replace the preview."""
    row = await conn.fetchrow(
        """
        UPDATE conversations SET
            last_message_preview = CASE WHEN $3 >= COALESCE(last_message_at, '-infinity')
                                        THEN $2 ELSE last_message_preview END,
            last_message_at = GREATEST(last_message_at, $3),
            unread_count = unread_count + CASE WHEN $4 THEN 1 ELSE 0 END,
            last_inbound_provider_message_id =
                CASE WHEN $4 AND $3 >= COALESCE(last_inbound_at, '-infinity')
                     THEN $5 ELSE last_inbound_provider_message_id END,
            last_inbound_at = CASE WHEN $4 THEN GREATEST(last_inbound_at, $3)
                                   ELSE last_inbound_at END,
            status = CASE WHEN $4 THEN 'open' ELSE status END
        WHERE id = $1
        RETURNING *
        """,
        conversation_id,
        preview,
        at,
        inbound,
        provider_message_id,
    )
    assert row is not None
    return row


async def apply_reaction(
    conn: Connection,
    *,
    integration_id: UUID,
    target_provider_message_id: str,
    emoji: str | None,
    direction: str,
) -> asyncpg.Record | None:
    """Set (or, with an empty emoji, remove) ``direction``'s reaction on the target message;
    the updated row, or None when the target is unknown or already shows this reaction."""
    return await conn.fetchrow(
        """
        WITH target AS (
            SELECT id,
                   COALESCE((SELECT jsonb_agg(r) FROM jsonb_array_elements(reactions) r
                             WHERE r->>'direction' <> $4), '[]'::jsonb)
                   || CASE WHEN COALESCE($3::text, '') = '' THEN '[]'::jsonb
                           ELSE jsonb_build_array(
                                jsonb_build_object('emoji', $3::text, 'direction', $4::text))
                      END AS reactions
            FROM messages WHERE integration_id = $1 AND provider_message_id = $2
        )
        UPDATE messages m SET reactions = target.reactions
        FROM target
        WHERE m.id = target.id AND m.reactions IS DISTINCT FROM target.reactions
        RETURNING m.*
        """,
        integration_id,
        target_provider_message_id,
        emoji,
        direction,
    )


async def apply_status(
    conn: Connection,
    *,
    integration_id: UUID,
    provider_message_id: str,
    status: MessageStatus,
    reported_at: datetime,
    error_code: str | None,
    error_reason: str | None,
) -> asyncpg.Record | None:
    """Move an outbound message's status forward (see ``contracts.status.next_status``):
    the updated row, or None when the message is unknown or the status would not advance."""
    return await conn.fetchrow(
        """
        UPDATE messages SET
            status = $3,
            sent_at = CASE WHEN $3 = 'sent' THEN COALESCE(sent_at, $4) ELSE sent_at END,
            delivered_at = CASE WHEN $3 = 'delivered' THEN COALESCE(delivered_at, $4)
                                ELSE delivered_at END,
            read_at = CASE WHEN $3 IN ('read', 'played') THEN COALESCE(read_at, $4)
                           ELSE read_at END,
            failed_at = CASE WHEN $3 = 'failed' THEN $4 ELSE failed_at END,
            error_code = CASE WHEN $3 = 'failed' THEN $5 ELSE error_code END,
            error_reason = CASE WHEN $3 = 'failed' THEN $6 ELSE error_reason END
        WHERE integration_id = $1 AND provider_message_id = $2 AND direction = 'outbound'
          AND CASE WHEN $3 = 'failed' THEN status_rank <= status_rank('sent')
                   ELSE status_rank < status_rank($3) END
        RETURNING *
        """,
        integration_id,
        provider_message_id,
        status.value,
        reported_at,
        error_code,
        error_reason,
    )


async def record_webhook(conn: Connection, *, tenant_id: UUID, event: WebhookRecorded) -> bool:
    """The raw webhook in the audit log; False when it was recorded before."""
    status: str = await conn.execute(
        """
        INSERT INTO webhook_logs (id, tenant_id, integration_id, provider, received_at, body,
                                  outcome, error, event_count)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (id) DO NOTHING
        """,
        event.webhook_id,
        tenant_id,
        event.integration_id,
        event.provider.value,
        event.received_at,
        event.body.replace("\x00", "\ufffd"),  # text columns cannot hold NUL
        event.outcome,
        event.error,
        event.event_count,
    )
    return status.endswith(" 1")


async def recorded_realtime(
    conn: Connection, *, conversation_id: UUID, event_ids: Sequence[UUID]
) -> list[Any]:
    """Payloads of realtime events recorded earlier with these ids (a redelivery's first time)."""
    rows = await conn.fetch(
        "SELECT payload FROM realtime_events WHERE tenant_id = app_tenant() "
        "AND conversation_id = $1 AND event_id = ANY($2::uuid[]) ORDER BY seq",
        conversation_id,
        list(event_ids),
    )
    return [r["payload"] for r in rows]
