"""What one tenant's transaction hands back to publish after it commits (``Downstream``), and
the helpers every kind of inbound event shares to fill it: what a redelivery's first delivery
recorded (``again``), the media fetch of a new attachment, statuses parked for ids just learnt.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import TypeAdapter

from bus.publisher import Outgoing
from contracts import (
    ConversationUpdated,
    MediaFetchRequested,
    MessageCreated,
    MessageReceived,
    MessageType,
    MessageUpdated,
    RealtimeEvent,
    StatusReported,
    topics,
)
from db.tenant import Connection
from ingest import parked, persist, reconcile
from ingest.views import derived_id, media_ref_of
from telemetry.tracing import child

REALTIME: TypeAdapter[Any] = TypeAdapter(RealtimeEvent)

NewRealtime = MessageCreated | MessageUpdated | ConversationUpdated


@dataclass
class Downstream:
    """What one tenant's transaction asks to publish once it has committed."""

    new: list[NewRealtime] = field(default_factory=list)  # to record in the realtime log
    again: list[Any] = field(default_factory=list)  # recorded by an earlier delivery
    media: list[MediaFetchRequested] = field(default_factory=list)
    # (integration, provider message id) of statuses parked by this transaction
    parked: set[tuple[UUID, str]] = field(default_factory=set)

    def outgoing(self, tenant_id: UUID) -> list[Outgoing]:
        key = str(tenant_id)
        out = [Outgoing(topics.REALTIME, key, e) for e in [*self.again, *self.new]]
        out += [Outgoing(topics.MEDIA, str(m.message_id), m) for m in self.media]
        return out


async def unpark_keys(conn: Connection, keys: Sequence[tuple[UUID, str]], out: Downstream) -> None:
    claimed = await parked.claim_parked_for(conn, keys)
    if claimed:
        out.new += await reconcile.apply_parked(conn, claimed)


def media_request(
    event: MessageReceived, row: asyncpg.Record, media_ref: Any
) -> MediaFetchRequested:
    return MediaFetchRequested(
        event_id=derived_id(event.event_id, "media"),
        tenant_id=event.tenant_id,
        traceparent=child(event.traceparent),
        message_id=row["id"],
        conversation_id=row["conversation_id"],
        integration_id=event.integration_id,
        provider=event.provider,
        message_type=MessageType(row["type"]),
        media=media_ref,
    )


async def again(
    conn: Connection,
    event: MessageReceived | StatusReported,
    row: asyncpg.Record,
    ids: list[UUID],
    out: Downstream,
) -> None:
    """A redelivery of an event already applied: publish what its first delivery recorded."""
    payloads = await persist.recorded_realtime(
        conn, conversation_id=row["conversation_id"], event_ids=ids
    )
    if not payloads:
        return  # a different delivery of the same provider message: nothing of ours to resend
    out.again.extend(REALTIME.validate_python(p) for p in payloads)
    ref = media_ref_of(row)
    if isinstance(event, MessageReceived) and row["media_state"] == "pending" and ref is not None:
        out.media.append(media_request(event, row, media_ref=ref))
