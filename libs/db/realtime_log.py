"""The realtime log: every event agents must see is recorded here, in the transaction of the
effect it describes, before it is published to the realtime topic.

The cursor is the tenant's ``realtime_seq``. The database numbers a transaction's events when
it commits (migration 0013: a deferred trigger takes the tenant's row lock, numbers them in
the order they were recorded, and the lock goes with the commit), so cursors commit in order:
a gateway that has seen cursor N committed can read every cursor below N from this table,
with no gap. (A plain sequence would not give that: nextval() order is not commit order.)
Taking the lock at commit, not mid-transaction, keeps every writer of a tenant from queueing
behind another's round trip to its COMMIT.

So a writer does two things: ``record`` in the transaction, ``numbered`` after its commit
(the cursors exist only then), then publishes.
"""

from collections.abc import Sequence
from typing import TypeVar, cast
from uuid import UUID

import asyncpg

from contracts.realtime import ConversationUpdated, MessageCreated, MessageUpdated
from db.tenant import Connection

# Bound, not constrained: a writer may record a mix (ingest-worker does), in its order.
R = TypeVar("R", bound=MessageCreated | MessageUpdated | ConversationUpdated)


def _conversation_of(event: MessageCreated | MessageUpdated | ConversationUpdated) -> UUID:
    if isinstance(event, ConversationUpdated):
        return event.conversation.id
    return event.message.conversation_id


# Placeholders count down from -1 in recording order; the trigger turns them into cursors.
_RECORD = """
INSERT INTO realtime_events (tenant_id, seq, event_id, type, conversation_id, payload)
SELECT $1, -nextval('realtime_event_placeholders'), e.event_id, e.type, e.conversation_id,
       e.payload::jsonb
  FROM unnest($2::uuid[], $3::text[], $4::uuid[], $5::text[]) WITH ORDINALITY
       AS e (event_id, type, conversation_id, payload, ord)
 ORDER BY e.ord
"""


async def record(conn: Connection, tenant_id: UUID, events: Sequence[R]) -> list[R]:
    """Store ``events`` of ``tenant_id`` in this transaction; their cursors are given at
    commit. Returns them with ``tenant_id`` set: pass them to ``numbered`` after the commit,
    then publish."""
    if not events:
        return []
    owned = [cast(R, e.model_copy(update={"tenant_id": tenant_id})) for e in events]
    await conn.execute(
        _RECORD,
        tenant_id,
        [e.event_id for e in owned],
        [e.type for e in owned],
        [_conversation_of(e) for e in owned],
        [e.model_dump_json() for e in owned],
    )
    return owned


async def numbered(db: asyncpg.Pool | Connection, events: Sequence[R]) -> list[R]:
    """``events`` recorded by a committed transaction, with the cursors the commit gave them
    (one query, outside any transaction). Raises LookupError when one has none: its
    transaction did not commit."""
    if not events:
        return []
    tenant_id = events[0].tenant_id
    rows = await db.fetch(
        "SELECT event_id, seq FROM realtime_event_cursors($1, $2::uuid[])",
        tenant_id,
        [e.event_id for e in events],
    )
    cursors = {r["event_id"]: r["seq"] for r in rows}
    missing = [e.event_id for e in events if e.event_id not in cursors]
    if missing:
        raise LookupError(f"realtime events not committed for tenant {tenant_id}: {missing}")
    return [cast(R, e.model_copy(update={"cursor": cursors[e.event_id]})) for e in events]
