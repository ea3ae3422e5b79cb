"""A reaction, edit or deletion for everyone applied to the message it names, and the realtime
events that makes (the message's new snapshot; the conversation's when its inbox line changed).

The events' ids derive from the inbound event's, so a redelivery that changes nothing finds
what its first delivery recorded (``Changed.event_ids``) and the caller publishes that again.
"""

from dataclasses import dataclass, field
from uuid import UUID

from contracts import ConversationUpdated, MessageReceived, MessageUpdated
from db.snapshots import message_view
from db.tenant import Connection
from ingest import amend, persist
from ingest.views import PREVIEW_MAX, conversation_view, derived_id
from telemetry.tracing import child


@dataclass(frozen=True)
class Changed:
    target_provider_message_id: str
    event_ids: list[UUID]  # of the realtime events this change records
    # What to record and publish; empty when nothing changed (unknown target, redelivery).
    realtime: list[MessageUpdated | ConversationUpdated] = field(default_factory=list)


async def apply(conn: Connection, event: MessageReceived, *, outbound: bool) -> Changed:
    """``outbound``: the business side wrote the change (an echo of the business phone)."""
    message = event.message
    direction = "outbound" if outbound else "inbound"
    if message.reaction is not None:
        target_id = message.reaction.target_provider_message_id
        row = await persist.apply_reaction(
            conn,
            integration_id=event.integration_id,
            target_provider_message_id=target_id,
            emoji=message.reaction.emoji,
            direction="outbound" if message.from_me else "inbound",
        )
    elif message.edit is not None:
        target_id = message.edit.target_provider_message_id
        row = await amend.apply_edit(
            conn,
            integration_id=event.integration_id,
            target_provider_message_id=target_id,
            direction=direction,
            text=message.edit.text,
            edited_at=message.sent_at,
        )
    elif message.revoke is not None:
        target_id = message.revoke.target_provider_message_id
        row = await amend.apply_revoke(
            conn,
            integration_id=event.integration_id,
            target_provider_message_id=target_id,
            direction=direction,
            deleted_at=message.sent_at,
        )
    else:
        raise ValueError(f"{message.type} message {message.provider_message_id} names no target")
    # A reaction's role stays "reaction": earlier deliveries recorded their events under it.
    message_event_id = derived_id(event.event_id, "reaction" if message.reaction else "change")
    conversation_event_id = derived_id(event.event_id, "conversation")
    changed = Changed(target_id, [message_event_id, conversation_event_id])
    if row is None:
        return changed
    trace = child(event.traceparent)
    changed.realtime.append(
        MessageUpdated(event_id=message_event_id, message=message_view(row), traceparent=trace)
    )
    if message.reaction is None:
        preview = message.edit.text[:PREVIEW_MAX] if message.edit else amend.DELETED_PREVIEW
        conversation = await amend.refresh_preview(conn, message=row, preview=preview)
        if conversation is not None:
            view = conversation_view(conversation, conversation, event.provider)
            changed.realtime.append(
                ConversationUpdated(
                    event_id=conversation_event_id, conversation=view, traceparent=trace
                )
            )
    return changed
