"""Set-based SQL for the hot path: a batch's new inbound messages written with a handful of
statements (contacts, conversations, messages, conversation counters) instead of several
round trips per message. The rules are those of ``persist`` (ON CONFLICT deduplication,
newer-wins previews); arrays are passed whole and expanded with ``unnest``.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from db.tenant import Connection


@dataclass(frozen=True)
class ContactIn:
    integration_id: UUID
    external_id: str
    phone: str | None
    lid: str | None
    display_name: str | None


async def upsert_contacts(
    conn: Connection, *, tenant_id: UUID, contacts: Sequence[ContactIn]
) -> list[asyncpg.Record]:
    """One row per (integration, external id); callers merge duplicates first (a statement
    may not update the same row twice)."""
    return list(
        await conn.fetch(
            """
            INSERT INTO contacts AS c (tenant_id, integration_id, external_id, phone, lid,
                                       display_name)
            SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[])
            ON CONFLICT (integration_id, external_id) DO UPDATE SET
                phone = COALESCE(EXCLUDED.phone, c.phone),
                lid = COALESCE(EXCLUDED.lid, c.lid),
                -- A name saved on the business's phone (contacts.synced) outranks the
                -- customer's own profile name.
                display_name = CASE WHEN c.named_on_phone THEN c.display_name
                                    ELSE COALESCE(EXCLUDED.display_name, c.display_name) END
            RETURNING id, integration_id, external_id, display_name, phone
            """,
            tenant_id,
            [c.integration_id for c in contacts],
            [c.external_id for c in contacts],
            [c.phone for c in contacts],
            [c.lid for c in contacts],
            [c.display_name for c in contacts],
        )
    )


async def conversations_for(
    conn: Connection, *, tenant_id: UUID, pairs: Sequence[tuple[UUID, UUID]]
) -> dict[UUID, UUID]:
    """contact id → conversation id for (integration id, contact id) pairs, created if new."""
    integrations = [p[0] for p in pairs]
    contacts = [p[1] for p in pairs]
    await conn.execute(
        """
        INSERT INTO conversations (tenant_id, integration_id, contact_id)
        SELECT $1, * FROM unnest($2::uuid[], $3::uuid[])
        ON CONFLICT (integration_id, contact_id) DO NOTHING
        """,
        tenant_id,
        integrations,
        contacts,
    )
    rows = await conn.fetch(
        "SELECT id, contact_id FROM conversations WHERE contact_id = ANY($1::uuid[])", contacts
    )
    return {r["contact_id"]: r["id"] for r in rows}


@dataclass(frozen=True)
class MessageIn:
    conversation_id: UUID
    integration_id: UUID
    direction: str
    type: str
    status: str
    provider_message_id: str
    sender_name: str | None
    text: str | None
    caption: str | None
    content: dict[str, Any]
    reply_to_provider_message_id: str | None
    media_provider_ref: str | None
    media_mime: str | None
    media_size: int | None
    media_sha256: str | None
    media_filename: str | None
    provider_timestamp: datetime
    sent_from_phone: bool = False


_COLUMNS = (
    "conversation_id uuid, integration_id uuid, direction text, type text, status text, "
    "provider_message_id text, sender_name text, text text, caption text, content jsonb, "
    "reply_to text, media_ref text, media_mime text, media_size bigint, media_sha256 text, "
    "media_filename text, at timestamptz, sent_from_phone boolean"
)


async def insert_messages(
    conn: Connection, *, tenant_id: UUID, messages: Sequence[MessageIn]
) -> list[asyncpg.Record]:
    """The rows actually inserted; a provider message id already stored (or repeated in the
    batch) is skipped by the unique index."""
    rows = await conn.fetch(
        f"""
        INSERT INTO messages (
            tenant_id, conversation_id, integration_id, direction, type, status,
            provider_message_id, sender_name, text, caption, content,
            reply_to_provider_message_id, reply_to_message_id,
            media_state, media_provider_ref, media_mime, media_size, media_sha256, media_filename,
            provider_timestamp, sent_at, sent_from_phone)
        SELECT $1, v.conversation_id, v.integration_id, v.direction, v.type, v.status,
               v.provider_message_id, v.sender_name, v.text, v.caption, v.content,
               v.reply_to,
               -- CASE: the lookup runs only for replies. Run for every row, and planned on
               -- stale statistics (a table that grew since its last analyze), it became a scan
               -- of all messages per inserted row and the worker stalled on it.
               CASE WHEN v.reply_to IS NOT NULL THEN
                   (SELECT m.id FROM messages m WHERE m.integration_id = v.integration_id
                    AND m.provider_message_id = v.reply_to)
               END,
               CASE WHEN v.media_ref IS NULL THEN NULL ELSE 'pending' END,
               v.media_ref, v.media_mime, v.media_size, v.media_sha256, v.media_filename,
               v.at, CASE WHEN v.direction = 'outbound' THEN v.at END, v.sent_from_phone
        FROM jsonb_to_recordset($2::jsonb) AS v({_COLUMNS})
        ON CONFLICT (integration_id, provider_message_id) WHERE provider_message_id IS NOT NULL
        DO NOTHING
        RETURNING *
        """,  # noqa: S608 - _COLUMNS is a constant, values are bound
        tenant_id,
        [_record(m) for m in messages],  # the pool's jsonb codec serializes it
    )
    return list(rows)


def _record(m: MessageIn) -> dict[str, Any]:
    return {
        "conversation_id": str(m.conversation_id),
        "integration_id": str(m.integration_id),
        "direction": m.direction,
        "type": m.type,
        "status": m.status,
        "provider_message_id": m.provider_message_id,
        "sender_name": m.sender_name,
        "text": m.text,
        "caption": m.caption,
        "content": m.content,
        "reply_to": m.reply_to_provider_message_id,
        "media_ref": m.media_provider_ref,
        "media_mime": m.media_mime,
        "media_size": m.media_size,
        "media_sha256": m.media_sha256,
        "media_filename": m.media_filename,
        "at": m.provider_timestamp.isoformat(),
        "sent_from_phone": m.sent_from_phone,
    }


async def link_replies(conn: Connection, *, message_ids: Sequence[UUID]) -> list[asyncpg.Record]:
    """Link quoted replies whose quoted message arrived in the same batch (the insert's own
    subquery cannot see rows of its own statement); the rows it changed."""
    return list(
        await conn.fetch(
            """
            UPDATE messages m SET reply_to_message_id = q.id
            FROM messages q
            WHERE m.id = ANY($1::uuid[]) AND m.reply_to_message_id IS NULL
              AND q.integration_id = m.integration_id
              AND q.provider_message_id = m.reply_to_provider_message_id
            RETURNING m.*
            """,
            list(message_ids),
        )
    )


@dataclass(frozen=True)
class ConversationTouch:
    conversation_id: UUID
    preview: str
    at: datetime  # the newest message of the batch in this conversation
    unread: int
    inbound_at: datetime | None  # the newest inbound one, if any
    inbound_provider_message_id: str | None


async def touch_conversations(
    conn: Connection, *, touches: Sequence[ConversationTouch]
) -> list[asyncpg.Record]:
    """Denormalize a batch's new messages into their conversations (one row per conversation)."""
    return list(
        await conn.fetch(
            """
            UPDATE conversations c SET
                last_message_preview = CASE WHEN v.at >= COALESCE(c.last_message_at, '-infinity')
                                            THEN v.preview ELSE c.last_message_preview END,
                last_message_at = GREATEST(c.last_message_at, v.at),
                unread_count = c.unread_count + v.unread,
                last_inbound_provider_message_id =
                    CASE WHEN v.inbound_at IS NOT NULL
                              AND v.inbound_at >= COALESCE(c.last_inbound_at, '-infinity')
                         THEN v.inbound_pmid ELSE c.last_inbound_provider_message_id END,
                last_inbound_at = GREATEST(c.last_inbound_at, v.inbound_at),
                status = CASE WHEN v.unread > 0 THEN 'open' ELSE c.status END
            FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::int[],
                        $5::timestamptz[], $6::text[])
                 AS v(id, preview, at, unread, inbound_at, inbound_pmid)
            WHERE c.id = v.id
            RETURNING c.*
            """,
            [t.conversation_id for t in touches],
            [t.preview for t in touches],
            [t.at for t in touches],
            [t.unread for t in touches],
            [t.inbound_at for t in touches],
            [t.inbound_provider_message_id for t in touches],
        )
    )


async def messages_by_provider_ids(
    conn: Connection, *, keys: Sequence[tuple[UUID, str]]
) -> dict[tuple[UUID, str], asyncpg.Record]:
    rows = await conn.fetch(
        """
        SELECT m.* FROM messages m
        JOIN unnest($1::uuid[], $2::text[]) AS k(integration_id, pmid)
          ON m.integration_id = k.integration_id AND m.provider_message_id = k.pmid
        """,
        [k[0] for k in keys],
        [k[1] for k in keys],
    )
    return {(r["integration_id"], r["provider_message_id"]): r for r in rows}
