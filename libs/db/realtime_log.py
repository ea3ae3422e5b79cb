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


async def record(conn: Connection, tenant_id: UUID, events: Sequence[R]) -> list[R]:
    """Give ``events`` consecutive cursors of ``tenant_id`` and store them; returns the events
    with ``cursor`` and ``tenant_id`` set, ready to publish after the transaction commits."""
    if not events:
        return []
    last = await conn.fetchval(
        "UPDATE tenants SET realtime_seq = realtime_seq + $2 WHERE id = $1 RETURNING realtime_seq",
        tenant_id,
        len(events),
    )
    if last is None:
        raise LookupError(f"tenant {tenant_id} not visible in this transaction")
    first = last - len(events) + 1
    stamped = [
        e.model_copy(update={"cursor": first + i, "tenant_id": tenant_id})
        for i, e in enumerate(events)
    ]
    await conn.executemany(
        "INSERT INTO realtime_events (tenant_id, seq, event_id, type, conversation_id, payload) "
        "VALUES ($1, $2, $3, $4, $5, $6::text::jsonb)",
        [
            (tenant_id, e.cursor, e.event_id, e.type, _conversation_of(e), e.model_dump_json())
            for e in stamped
        ],
    )
    return stamped
