"""SQL for inbound messages, reactions, statuses and the webhook audit log.

One named function per query; the caller passes a connection whose transaction is bound to
the tenant (``db.tenant.tenant_tx``), so row-level security checks every row. Deduplication
and forward-only status live in the SQL (ON CONFLICT, rank comparison in the WHERE), and each
function tells its caller whether it changed anything, so a redelivered event can be told
apart from a new one.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

import asyncpg

from contracts import InboundEvent, MessageStatus, WebhookRecorded
from db.tenant import Connection


async def message_by_provider_id(
    conn: Connection, *, integration_id: UUID, provider_message_id: str
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM messages WHERE integration_id = $1 AND provider_message_id = $2",
        integration_id,
        provider_message_id,
    )


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
    the updated row, or None when the message is unknown or the status would not advance.
    An 'unknown' message ("may have been sent") moves on and loses that reason."""
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
            -- a status from the provider answers "may have been sent": the reason goes
            error_code = CASE WHEN $3 = 'failed' THEN $5
                              WHEN status = 'unknown' THEN NULL ELSE error_code END,
            error_reason = CASE WHEN $3 = 'failed' THEN $6
                                WHEN status = 'unknown' THEN NULL ELSE error_reason END
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


class WebhookLog(NamedTuple):
    """A ``webhook_logs`` row, less the tenant its transaction is bound to."""

    webhook_id: UUID
    integration_id: UUID
    provider: str
    received_at: datetime
    body: str
    outcome: str
    error: str | None
    event_count: int


def webhook_log(event: InboundEvent) -> WebhookLog | None:
    """The raw webhook an event brings: a ``WebhookRecorded``, or the event that carries it."""
    if isinstance(event, WebhookRecorded):
        return WebhookLog(
            event.webhook_id,
            event.integration_id,
            event.provider.value,
            event.received_at,
            event.body,
            event.outcome,
            event.error,
            event.event_count,
        )
    if event.raw is None:
        return None
    return WebhookLog(
        event.webhook_id,
        event.integration_id,
        event.provider.value,
        event.raw.received_at,
        event.raw.body,
        "accepted",
        None,
        event.raw.event_count,
    )


async def record_webhooks(conn: Connection, *, tenant_id: UUID, logs: Sequence[WebhookLog]) -> None:
    """The raw webhooks in the audit log; one recorded before is left as it is."""
    if not logs:
        return
    await conn.executemany(
        """
        INSERT INTO webhook_logs (id, tenant_id, integration_id, provider, received_at, body,
                                  outcome, error, event_count)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (id) DO NOTHING
        """,
        [
            (
                w.webhook_id,
                tenant_id,
                w.integration_id,
                w.provider,
                w.received_at,
                w.body.replace("\x00", "\ufffd"),  # text columns cannot hold NUL
                w.outcome,
                w.error,
                w.event_count,
            )
            for w in logs
        ],
    )


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
