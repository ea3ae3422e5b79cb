"""Applying inbound events to the database: one transaction per tenant per batch, then the
downstream events (realtime snapshots, media fetch requests) to publish after commit.

A redelivered event changes nothing (ON CONFLICT / forward-only updates) but finds, by their
derived ids, the realtime events its first delivery recorded, and hands them back to be
published again: a crash between commit and publish loses nothing.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg
import structlog
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
from contracts.inbound import InboundEvent
from db import realtime_log
from db.tenant import Connection
from ingest import parked, persist
from ingest.views import (
    content_of,
    conversation_view,
    derived_id,
    media_of,
    media_ref_of,
    message_view,
    preview,
)
from telemetry.trace import child

log = structlog.get_logger(__name__)

_REALTIME: TypeAdapter[Any] = TypeAdapter(RealtimeEvent)

NewRealtime = MessageCreated | MessageUpdated | ConversationUpdated


@dataclass
class Downstream:
    """What one tenant's transaction asks to publish once it has committed."""

    new: list[NewRealtime] = field(default_factory=list)  # to record in the realtime log
    again: list[Any] = field(default_factory=list)  # recorded by an earlier delivery
    media: list[MediaFetchRequested] = field(default_factory=list)

    def outgoing(self, tenant_id: UUID) -> list[Outgoing]:
        key = str(tenant_id)
        out = [Outgoing(topics.REALTIME, key, e) for e in [*self.again, *self.new]]
        out += [Outgoing(topics.MEDIA, str(m.message_id), m) for m in self.media]
        return out


async def apply_tenant(
    conn: Connection, tenant_id: UUID, events: Sequence[InboundEvent]
) -> Downstream:
    """Apply ``events`` (in order) inside the caller's tenant transaction."""
    out = Downstream()
    for event in events:
        if isinstance(event, MessageReceived):
            if event.message.type is MessageType.REACTION:
                await _reaction(conn, event, out)
            else:
                await _message(conn, tenant_id, event, out)
        elif isinstance(event, StatusReported):
            await _status(conn, tenant_id, event, out)
        else:
            await persist.record_webhook(conn, tenant_id=tenant_id, event=event)
    # record() is typed for one event class per call; the cursors must follow this mixed order.
    out.new = await realtime_log.record(conn, tenant_id, out.new)  # type: ignore[type-var]
    return out


async def _message(
    conn: Connection, tenant_id: UUID, event: MessageReceived, out: Downstream
) -> None:
    message = event.message
    outbound = message.from_me or message.direction == "outbound_echo"
    contact = await persist.upsert_contact(
        conn,
        tenant_id=tenant_id,
        integration_id=event.integration_id,
        external_id=message.chat.id,
        phone=None if outbound else message.sender.phone,
        lid=None if outbound else message.sender.lid,
        display_name=None if outbound else message.sender.display_name,
    )
    conversation_id = await persist.conversation_id_for(
        conn, tenant_id=tenant_id, integration_id=event.integration_id, contact_id=contact["id"]
    )
    media = media_of(message)
    row = await persist.insert_inbound_message(
        conn,
        tenant_id=tenant_id,
        integration_id=event.integration_id,
        conversation_id=conversation_id,
        message=message,
        content=content_of(message),
        media=media,
    )
    ids = [derived_id(event.event_id, "message"), derived_id(event.event_id, "conversation")]
    if row is None:
        existing = await persist.message_by_provider_id(
            conn,
            integration_id=event.integration_id,
            provider_message_id=message.provider_message_id,
        )
        if existing is not None:
            await _again(conn, event, existing, ids, out)
        return
    conversation = await persist.touch_conversation(
        conn,
        conversation_id=conversation_id,
        preview=preview(message),
        at=message.sent_at,
        inbound=not outbound,
        provider_message_id=message.provider_message_id,
    )
    trace = child(event.traceparent)
    out.new.append(MessageCreated(event_id=ids[0], message=message_view(row), traceparent=trace))
    out.new.append(
        ConversationUpdated(
            event_id=ids[1],
            conversation=conversation_view(conversation, contact, event.provider),
            traceparent=trace,
        )
    )
    if media is not None:
        out.media.append(_media_request(event, row, media_ref=media))


def _media_request(
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


async def _again(
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
    out.again.extend(_REALTIME.validate_python(p) for p in payloads)
    ref = media_ref_of(row)
    if isinstance(event, MessageReceived) and row["media_state"] == "pending" and ref is not None:
        out.media.append(_media_request(event, row, media_ref=ref))


async def _reaction(conn: Connection, event: MessageReceived, out: Downstream) -> None:
    reaction = event.message.reaction
    if reaction is None:
        raise ValueError(f"reaction message {event.message.provider_message_id} has no reaction")
    row = await persist.apply_reaction(
        conn,
        integration_id=event.integration_id,
        target_provider_message_id=reaction.target_provider_message_id,
        emoji=reaction.emoji,
        direction="outbound" if event.message.from_me else "inbound",
    )
    event_id = derived_id(event.event_id, "reaction")
    if row is not None:
        out.new.append(
            MessageUpdated(
                event_id=event_id, message=message_view(row), traceparent=child(event.traceparent)
            )
        )
        return
    target = await persist.message_by_provider_id(
        conn,
        integration_id=event.integration_id,
        provider_message_id=reaction.target_provider_message_id,
    )
    if target is None:
        log.info("reaction to an unknown message dropped", integration_id=str(event.integration_id))
        return
    await _again(conn, event, target, [event_id], out)


async def _status(
    conn: Connection, tenant_id: UUID, event: StatusReported, out: Downstream
) -> None:
    for provider_message_id in event.provider_message_ids:
        row = await persist.apply_status(
            conn,
            integration_id=event.integration_id,
            provider_message_id=provider_message_id,
            status=event.status,
            reported_at=event.reported_at,
            error_code=event.error.code if event.error else None,
            error_reason=event.error.title if event.error else None,
        )
        event_id = derived_id(event.event_id, f"status:{provider_message_id}")
        if row is not None:
            out.new.append(
                MessageUpdated(
                    event_id=event_id,
                    message=message_view(row),
                    traceparent=child(event.traceparent),
                )
            )
            continue
        existing = await persist.message_by_provider_id(
            conn, integration_id=event.integration_id, provider_message_id=provider_message_id
        )
        if existing is not None:
            await _again(conn, event, existing, [event_id], out)
            continue
        await parked.park_status(
            conn,
            tenant_id=tenant_id,
            integration_id=event.integration_id,
            provider_message_id=provider_message_id,
            status=event.status,
            reported_at=event.reported_at,
            error_code=event.error.code if event.error else None,
            error_reason=event.error.title if event.error else None,
        )
