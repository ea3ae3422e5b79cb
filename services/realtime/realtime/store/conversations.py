"""Conversations as the inbox shows them (joined with contact and integration)."""

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from db.tenant import Connection

# A conversation as the inbox shows it, read from ``c``: the table, or an UPDATE's RETURNING.
_VIEW = """
SELECT c.id, c.integration_id, i.provider, c.contact_id, ct.display_name AS contact_name,
       ct.phone AS contact_phone, ct.external_id AS chat_id, c.status, c.assignee,
       c.last_message_preview, c.last_message_at, c.last_inbound_at,
       c.last_inbound_provider_message_id, c.unread_count, c.created_at, c.updated_at
"""
_JOINED = """
JOIN contacts ct ON ct.id = c.contact_id
JOIN integrations i ON i.id = c.integration_id
"""
_SELECT = _VIEW + "FROM conversations c" + _JOINED


async def get(
    conn: Connection, *, conversation_id: UUID, lock: bool = False
) -> asyncpg.Record | None:
    suffix = " FOR UPDATE OF c" if lock else ""
    return await conn.fetchrow(_SELECT + " WHERE c.id = $1" + suffix, conversation_id)


async def page(
    conn: Connection,
    *,
    limit: int,
    after: tuple[datetime | None, UUID] | None,
    status: str | None,
    unread: bool | None,
) -> list[asyncpg.Record]:
    """Newest activity first: (last_message_at DESC NULLS LAST, id DESC), keyset after ``after``."""
    where, args = ["TRUE"], []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if status is not None:
        where.append(f"c.status = {arg(status)}")
    if unread is True:
        where.append("c.unread_count > 0")
    elif unread is False:
        where.append("c.unread_count = 0")
    if after is not None:
        at, last_id = after
        if at is None:
            where.append(f"(c.last_message_at IS NULL AND c.id < {arg(last_id)})")
        else:
            ts, i = arg(at), arg(last_id)
            where.append(
                f"(c.last_message_at < {ts} OR (c.last_message_at = {ts} AND c.id < {i})"
                " OR c.last_message_at IS NULL)"
            )
    sql = (
        _SELECT
        + " WHERE "
        + " AND ".join(where)
        + f" ORDER BY c.last_message_at DESC NULLS LAST, c.id DESC LIMIT {arg(limit)}"
    )
    return list(await conn.fetch(sql, *args))


async def update(
    conn: Connection, *, conversation_id: UUID, changes: dict[str, Any]
) -> asyncpg.Record | None:
    allowed = {"status", "assignee"}
    sets = [f"{name} = ${i + 2}" for i, name in enumerate(changes) if name in allowed]
    if sets:
        await conn.execute(
            f"UPDATE conversations SET {', '.join(sets)} WHERE id = $1",  # noqa: S608 (constant or allow-listed names; values bound)
            conversation_id,
            *[v for k, v in changes.items() if k in allowed],
        )
    return await get(conn, conversation_id=conversation_id)


async def mark_read(conn: Connection, *, conversation_id: UUID) -> asyncpg.Record | None:
    await conn.execute("UPDATE conversations SET unread_count = 0 WHERE id = $1", conversation_id)
    return await get(conn, conversation_id=conversation_id)


_TOUCHED = """
WITH c AS (
    UPDATE conversations SET last_message_preview = $2, last_message_at = now(), status = 'open'
     WHERE id = $1
    RETURNING *
)
"""
_TOUCH_OUTBOUND = _TOUCHED + _VIEW + "FROM c" + _JOINED


async def touch_outbound(
    conn: Connection, *, conversation_id: UUID, preview: str
) -> asyncpg.Record | None:
    """An agent's message went out: the conversation's preview and order move, and it opens.
    Returns the conversation as ``get`` does, in the same round trip."""
    return await conn.fetchrow(_TOUCH_OUTBOUND, conversation_id, preview[:200])


async def start(conn: Connection, *, tenant_id: UUID, integration_id: UUID, phone: str) -> UUID:
    """The conversation with ``phone`` on the integration, created with its contact if new."""
    contact_id = await conn.fetchval(
        "INSERT INTO contacts (tenant_id, integration_id, external_id, phone) "
        "VALUES ($1, $2, $3, $3) ON CONFLICT (integration_id, external_id) "
        "DO UPDATE SET phone = COALESCE(contacts.phone, EXCLUDED.phone) RETURNING id",
        tenant_id,
        integration_id,
        phone,
    )
    conversation_id: UUID = await conn.fetchval(
        "INSERT INTO conversations (tenant_id, integration_id, contact_id) VALUES ($1, $2, $3) "
        "ON CONFLICT (integration_id, contact_id) DO UPDATE SET status = 'open' RETURNING id",
        tenant_id,
        integration_id,
        contact_id,
    )
    return conversation_id


async def is_member(conn: Connection, *, user_id: str) -> bool:
    """Whether ``user_id`` belongs to the transaction's tenant (an assignee must)."""
    found = await conn.fetchval("SELECT 1 FROM tenant_members WHERE user_id = $1", user_id)
    return found is not None
