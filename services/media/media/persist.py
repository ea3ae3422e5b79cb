"""SQL of the media service: the message's media fields, read and written inside the caller's
``tenant_tx`` (row-level security scopes every query to that tenant)."""

from uuid import UUID

import asyncpg

from db.tenant import Connection

_MESSAGE = """id, conversation_id, direction, type, status, text, caption, content, reactions,
    reply_to_message_id, client_message_id, provider_message_id, error_code, error_reason,
    sender_name, edited_at, deleted_at, created_at, updated_at, media_state, media_provider_ref,
    media_key, media_mime, media_size, media_sha256, media_filename, media_error"""


async def fetch_target(conn: Connection, *, message_id: UUID) -> asyncpg.Record | None:
    """The message's media state and the integration to fetch its attachment through."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """
        SELECT m.media_state, m.media_filename, i.id AS integration_id, i.provider,
               i.credentials, i.api_base_url
        FROM messages m
        JOIN integrations i ON i.tenant_id = m.tenant_id AND i.id = m.integration_id
        WHERE m.id = $1
        """,
        message_id,
    )
    return row


async def mark_stored(
    conn: Connection,
    *,
    message_id: UUID,
    key: str,
    mime: str,
    size: int,
    sha256: str,
    filename: str | None,
) -> asyncpg.Record | None:
    """Point the message at its stored file; None when it already was (nothing changed)."""
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        UPDATE messages
        SET media_state = 'stored', media_key = $2, media_mime = $3, media_size = $4,
            media_sha256 = $5, media_filename = COALESCE(media_filename, $6), media_error = NULL
        WHERE id = $1 AND media_state IS DISTINCT FROM 'stored'
        RETURNING {_MESSAGE}
        """,  # noqa: S608 - the interpolated part is a constant
        message_id,
        key,
        mime,
        size,
        sha256,
        filename,
    )
    return row


async def mark_failed(conn: Connection, *, message_id: UUID, reason: str) -> asyncpg.Record | None:
    """Record why the attachment could not be stored; never overrides a stored one."""
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        UPDATE messages SET media_state = 'failed', media_error = $2
        WHERE id = $1 AND media_state IS DISTINCT FROM 'stored'
        RETURNING {_MESSAGE}
        """,  # noqa: S608 - the interpolated part is a constant
        message_id,
        reason[:500],
    )
    return row


async def recorded_payloads(
    conn: Connection, *, conversation_id: UUID, event_id: UUID
) -> list[dict[str, object]]:
    """Realtime events already recorded under ``event_id`` (a redelivered request's)."""
    rows = await conn.fetch(
        "SELECT payload FROM realtime_events "
        "WHERE tenant_id = app_tenant() AND conversation_id = $1 AND event_id = $2 ORDER BY seq",
        conversation_id,
        event_id,
    )
    return [dict(r["payload"]) for r in rows]


async def media_of_message(conn: Connection, *, message_id: UUID) -> asyncpg.Record | None:
    """What a download needs; None when the message is not visible in this tenant."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT media_state, media_key, media_mime, media_filename, media_error "
        "FROM messages WHERE id = $1",
        message_id,
    )
    return row


async def is_member(conn: Connection, *, tenant_id: UUID, user_id: str) -> bool:
    found = await conn.fetchval(
        "SELECT 1 FROM tenant_members WHERE tenant_id = $1 AND user_id = $2", tenant_id, user_id
    )
    return found is not None
