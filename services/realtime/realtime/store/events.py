"""Reading the realtime log back: replay for a resuming client, gap fill for the hub."""

from uuid import UUID

from db.tenant import Connection
from realtime.channels import INBOX, Channel
from realtime.feed import FeedEvent, feed_event


async def watermark(conn: Connection) -> int:
    """The tenant's highest committed cursor."""
    seq = await conn.fetchval("SELECT realtime_seq FROM tenants WHERE id = app_tenant()")
    return int(seq or 0)


def _events(tenant_id: UUID, rows: list[object]) -> list[FeedEvent]:
    return [
        feed_event(tenant_id, r["seq"], r["type"], r["conversation_id"], r["payload"])  # type: ignore[index]
        for r in rows
    ]


async def replay(
    conn: Connection, *, tenant_id: UUID, channel: Channel, after: int, upto: int, limit: int
) -> list[FeedEvent]:
    """Events of ``channel`` with cursor in (after, upto], oldest first, at most ``limit``."""
    if channel.name == INBOX:
        rows = await conn.fetch(
            "SELECT seq, type, conversation_id, payload::text AS payload FROM realtime_events "
            "WHERE tenant_id = $1 AND seq > $2 AND seq <= $3 AND type = 'conversation.updated' "
            "ORDER BY seq LIMIT $4",
            tenant_id,
            after,
            upto,
            limit,
        )
    else:
        rows = await conn.fetch(
            "SELECT seq, type, conversation_id, payload::text AS payload FROM realtime_events "
            "WHERE tenant_id = $1 AND conversation_id = $2 AND seq > $3 AND seq <= $4 "
            "ORDER BY seq LIMIT $5",
            tenant_id,
            channel.conversation_id,
            after,
            upto,
            limit,
        )
    return _events(tenant_id, list(rows))


async def range_(conn: Connection, *, tenant_id: UUID, first: int, last: int) -> list[FeedEvent]:
    """Every event with cursor in [first, last], in order (committed: see db.realtime_log)."""
    rows = await conn.fetch(
        "SELECT seq, type, conversation_id, payload::text AS payload FROM realtime_events "
        "WHERE tenant_id = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq",
        tenant_id,
        first,
        last,
    )
    return _events(tenant_id, list(rows))
