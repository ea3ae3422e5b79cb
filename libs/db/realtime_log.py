"""The realtime log: every event agents must see is recorded here, in the transaction of the
effect it describes, before it is published to the realtime topic.

The cursor is the tenant's ``realtime_seq``, advanced with ``UPDATE ... RETURNING``. The row lock
that UPDATE takes is held until commit, so cursors commit in order: a gateway that has seen
cursor N committed can read every cursor below N from this table, with no gap. (A plain
sequence would not give that: nextval() order is not commit order.)
"""

from collections.abc import Sequence
from typing import TypeVar
from uuid import UUID

from contracts.realtime import ConversationUpdated, MessageCreated, MessageUpdated
from db.tenant import Connection

R = TypeVar("R", MessageCreated, MessageUpdated, ConversationUpdated)


def _conversation_of(event: MessageCreated | MessageUpdated | ConversationUpdated) -> UUID:
    if isinstance(event, ConversationUpdated):
        return event.conversation.id
    return event.message.conversation_id


# One statement: the tenant row is locked by the statement that also stores the events, so the
# lock is held for that statement and the COMMIT only. Every writer of a tenant (ingest-worker,
# dispatcher, gateway, media-worker) queues on that lock; taking it earlier in the transaction
# made it span the round trips of the rest (the dispatcher's sends waited mostly there).
_RECORD = """
WITH cursor AS (
    UPDATE tenants SET realtime_seq = realtime_seq + cardinality($2::uuid[])
     WHERE id = $1
    RETURNING realtime_seq - cardinality($2::uuid[]) AS base
), stored AS (
    INSERT INTO realtime_events (tenant_id, seq, event_id, type, conversation_id, payload)
    SELECT $1, cursor.base + e.ord, e.event_id, e.type, e.conversation_id,
           jsonb_set(e.payload::jsonb, '{cursor}', to_jsonb(cursor.base + e.ord))
      FROM cursor,
           unnest($2::uuid[], $3::text[], $4::uuid[], $5::text[])
               WITH ORDINALITY AS e (event_id, type, conversation_id, payload, ord)
)
SELECT base FROM cursor
"""


async def record(conn: Connection, tenant_id: UUID, events: Sequence[R]) -> list[R]:
    """Give ``events`` consecutive cursors of ``tenant_id`` and store them; returns the events
    with ``cursor`` and ``tenant_id`` set, ready to publish after the transaction commits.
    Call it last in the transaction: the tenant's cursor stays locked until commit."""
    if not events:
        return []
    owned = [e.model_copy(update={"tenant_id": tenant_id}) for e in events]
    base = await conn.fetchval(
        _RECORD,
        tenant_id,
        [e.event_id for e in owned],
        [e.type for e in owned],
        [_conversation_of(e) for e in owned],
        [e.model_dump_json() for e in owned],
    )
    if base is None:
        raise LookupError(f"tenant {tenant_id} not visible in this transaction")
    return [e.model_copy(update={"cursor": base + i}) for i, e in enumerate(owned, start=1)]
