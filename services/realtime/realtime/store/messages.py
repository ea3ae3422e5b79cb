"""Messages of a conversation: history pages and outbound inserts (idempotent by client id)."""

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from db.tenant import Connection

_COLUMNS = """
id, conversation_id, direction, type, status, text, caption, content, media_state, media_mime,
media_size, media_filename, media_sha256, media_error, reply_to_message_id, reactions,
client_message_id, provider_message_id, error_code, error_reason, sender_name, edited_at,
deleted_at, created_at, updated_at
"""


async def page_before(
    conn: Connection,
    *,
    conversation_id: UUID,
    limit: int,
    before: tuple[datetime | None, UUID] | None,
) -> list[asyncpg.Record]:
    """Newest first, backwards in time; uses (tenant_id, conversation_id, created_at, id)."""
    if before is None:
        return list(
            await conn.fetch(
                f"SELECT {_COLUMNS} FROM messages WHERE tenant_id = app_tenant() "  # noqa: S608 (constant or allow-listed names; values bound)
                "AND conversation_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
                conversation_id,
                limit,
            )
        )
    return list(
        await conn.fetch(
            f"SELECT {_COLUMNS} FROM messages WHERE tenant_id = app_tenant() "  # noqa: S608 (constant or allow-listed names; values bound)
            "AND conversation_id = $1 AND (created_at, id) < ($2, $3) "
            "ORDER BY created_at DESC, id DESC LIMIT $4",
            conversation_id,
            before[0],
            before[1],
            limit,
        )
    )


async def by_client_id(conn: Connection, *, client_message_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM messages WHERE tenant_id = app_tenant() "  # noqa: S608 (constant or allow-listed names; values bound)
        "AND client_message_id = $1",
        client_message_id,
    )


async def provider_id_of(
    conn: Connection, *, conversation_id: UUID, message_id: UUID
) -> tuple[bool, str | None]:
    """(exists in this conversation, its provider message id)."""
    row = await conn.fetchrow(
        "SELECT provider_message_id FROM messages WHERE id = $1 AND conversation_id = $2",
        message_id,
        conversation_id,
    )
    return (row is not None, row["provider_message_id"] if row else None)


async def insert_outbound(conn: Connection, **values: Any) -> asyncpg.Record | None:
    """None when the tenant already has a message with this ``client_message_id``."""
    names = list(values)
    placeholders = ", ".join(f"${i + 1}" for i in range(len(names)))
    return await conn.fetchrow(
        f"INSERT INTO messages (direction, status, {', '.join(names)}) "  # noqa: S608 (constant or allow-listed names; values bound)
        f"VALUES ('outbound', 'queued', {placeholders}) "
        "ON CONFLICT (tenant_id, client_message_id) WHERE client_message_id IS NOT NULL "
        f"DO NOTHING RETURNING {_COLUMNS}",
        *values.values(),
    )
