"""Applying inbound events to the database: one transaction per tenant per batch, then the
downstream events (realtime snapshots, media fetch requests) to publish after commit.

A redelivered event changes nothing (ON CONFLICT / forward-only updates) but finds, by their
derived ids, the realtime events its first delivery recorded, and hands them back to be
published again: a crash between commit and publish loses nothing.
"""

from collections.abc import Callable, Sequence
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
    MessageStatus,
    MessageType,
    MessageUpdated,
    RealtimeEvent,
    StatusReported,
    topics,
)
from contracts.inbound import InboundEvent
from db import realtime_log
from db.snapshots import message_view
from db.tenant import Connection
from ingest import bulk, changes, echoes, parked, persist, reconcile
from ingest.views import (
    content_of,
    conversation_view,
    derived_id,
    media_of,
    media_ref_of,
    preview,
)
from telemetry.tracing import child, link

log = structlog.get_logger(__name__)

_REALTIME: TypeAdapter[Any] = TypeAdapter(RealtimeEvent)

NewRealtime = MessageCreated | MessageUpdated | ConversationUpdated
# Inbound "messages" that are no message of their own but change an earlier one.
_CHANGES = frozenset({MessageType.REACTION, MessageType.EDIT, MessageType.REVOKE})


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


async def apply_tenant(
    conn: Connection, tenant_id: UUID, events: Sequence[InboundEvent]
) -> Downstream:
    """Apply ``events`` inside the caller's tenant transaction: the raw records and new
    messages set-based, then reactions, edits, deletions and statuses in their consumed order
    (so they may target a message of the same batch)."""
    out = Downstream()
    logs = [w for e in events if (w := persist.webhook_log(e)) is not None]
    await persist.record_webhooks(conn, tenant_id=tenant_id, logs=logs)
    messages = [
        e for e in events if isinstance(e, MessageReceived) and e.message.type not in _CHANGES
    ]
    if messages:
        await _messages(conn, tenant_id, messages, out)
    await _unpark(conn, [e for e in events if isinstance(e, StatusReported)], out)
    for event in events:
        if isinstance(event, StatusReported):
            await _status(conn, tenant_id, event, out)
        elif isinstance(event, MessageReceived) and event.message.type in _CHANGES:
            await _change(conn, event, out)
    # record() is typed for one event class per call; the cursors must follow this mixed order.
    out.new = await realtime_log.record(conn, tenant_id, out.new)  # type: ignore[type-var]
    return out


async def _unpark(conn: Connection, statuses: list[StatusReported], out: Downstream) -> None:
    """Statuses parked for the messages this batch reports on, applied first. They were
    reported earlier (a provider may send sent, delivered and read before the dispatcher has
    stored the message's id); applied after a later status they would be dropped as stale and
    an agent would see sent → read, never delivered."""
    keys = {(s.integration_id, pid) for s in statuses for pid in s.provider_message_ids}
    await _unpark_keys(conn, sorted(keys), out)


async def _unpark_keys(conn: Connection, keys: Sequence[tuple[UUID, str]], out: Downstream) -> None:
    claimed = await parked.claim_parked_for(conn, keys)
    if claimed:
        out.new += await reconcile.apply_parked(conn, claimed)


def _is_outbound(event: MessageReceived) -> bool:
    return event.message.from_me or event.message.direction == "outbound_echo"


def _contacts(events: Sequence[MessageReceived]) -> list[bulk.ContactIn]:
    """One contact per chat, the batch's latest known phone / lid / profile name winning."""
    merged: dict[tuple[UUID, str], bulk.ContactIn] = {}
    for e in events:
        key = (e.integration_id, e.message.chat.id)
        sender = e.message.sender
        seen = merged.get(key)
        if _is_outbound(e):  # the business wrote: the sender is not the contact
            phone = lid = name = None
        else:
            phone, lid, name = sender.phone, sender.lid, sender.display_name
        merged[key] = bulk.ContactIn(
            e.integration_id,
            e.message.chat.id,
            phone or (seen.phone if seen else None),
            lid or (seen.lid if seen else None),
            name or (seen.display_name if seen else None),
        )
    return list(merged.values())


def _message_in(event: MessageReceived, conversation_id: UUID) -> bulk.MessageIn:
    message = event.message
    outbound = _is_outbound(event)
    media = media_of(message)
    return bulk.MessageIn(
        conversation_id=conversation_id,
        integration_id=event.integration_id,
        direction="outbound" if outbound else "inbound",
        type=message.type.value,
        status=MessageStatus.SENT.value if outbound else MessageStatus.RECEIVED.value,
        provider_message_id=message.provider_message_id,
        sender_name=message.sender.display_name,
        text=message.text,
        caption=message.caption,
        content=content_of(message),
        reply_to_provider_message_id=message.reply_to_provider_message_id,
        media_provider_ref=media.provider_ref if media else None,
        media_mime=media.mime if media else None,
        media_size=media.size if media else None,
        media_sha256=media.sha256 if media else None,
        media_filename=media.filename if media else None,
        provider_timestamp=message.sent_at,
    )


def _touches(new: Sequence[tuple[MessageReceived, asyncpg.Record]]) -> list[bulk.ConversationTouch]:
    """Per conversation: the newest message's preview, unread count, newest inbound."""
    touches: dict[UUID, bulk.ConversationTouch] = {}
    for event, row in new:
        inbound = not _is_outbound(event)
        at = event.message.sent_at
        t = touches.get(row["conversation_id"])
        newest = t is None or at >= t.at
        newer_inbound = inbound and (t is None or t.inbound_at is None or at >= t.inbound_at)
        touches[row["conversation_id"]] = bulk.ConversationTouch(
            conversation_id=row["conversation_id"],
            preview=preview(event.message) if newest or t is None else t.preview,
            at=at if newest or t is None else t.at,
            unread=(t.unread if t else 0) + (1 if inbound else 0),
            inbound_at=at if newer_inbound else (t.inbound_at if t else None),
            inbound_provider_message_id=event.message.provider_message_id
            if newer_inbound
            else (t.inbound_provider_message_id if t else None),
        )
    return list(touches.values())


async def _messages(
    conn: Connection, tenant_id: UUID, events: Sequence[MessageReceived], out: Downstream
) -> None:
    contacts = await bulk.upsert_contacts(conn, tenant_id=tenant_id, contacts=_contacts(events))
    contact_of = {(c["integration_id"], c["external_id"]): c for c in contacts}
    conversation_of = await bulk.conversations_for(
        conn, tenant_id=tenant_id, pairs=[(c["integration_id"], c["id"]) for c in contacts]
    )

    def conversation(e: MessageReceived) -> UUID:
        return conversation_of[contact_of[(e.integration_id, e.message.chat.id)]["id"]]

    events = await _attach_echoes(conn, events, conversation, out)
    inserted = await bulk.insert_messages(
        conn, tenant_id=tenant_id, messages=[_message_in(e, conversation(e)) for e in events]
    )
    rows = {(r["integration_id"], r["provider_message_id"]): r for r in inserted}
    unlinked = [r["id"] for r in inserted if r["reply_to_provider_message_id"]]
    if unlinked and any(r["reply_to_message_id"] is None for r in inserted):
        for r in await bulk.link_replies(conn, message_ids=unlinked):
            rows[(r["integration_id"], r["provider_message_id"])] = r
    new: list[tuple[MessageReceived, asyncpg.Record]] = []
    repeated: list[MessageReceived] = []
    for e in events:  # the first event of a provider id made the row; others repeat it
        row = rows.pop((e.integration_id, e.message.provider_message_id), None)
        if row is not None:
            new.append((e, row))
        else:
            repeated.append(e)
    conversations = {
        r["id"]: r for r in await bulk.touch_conversations(conn, touches=_touches(new))
    }
    contact_by_id = {c["id"]: c for c in contacts}
    last_event: dict[UUID, MessageReceived] = {}
    for e, row in new:
        trace = child(e.traceparent)
        out.new.append(
            MessageCreated(
                event_id=derived_id(e.event_id, "message"),
                message=message_view(row),
                traceparent=trace,
            )
        )
        last_event[row["conversation_id"]] = e
        media = media_of(e.message)
        if media is not None:
            out.media.append(_media_request(e, row, media_ref=media))
    for conversation_id, e in last_event.items():
        row = conversations[conversation_id]
        out.new.append(
            ConversationUpdated(
                event_id=derived_id(e.event_id, "conversation"),
                conversation=conversation_view(row, contact_by_id[row["contact_id"]], e.provider),
                traceparent=child(e.traceparent),
            )
        )
    if repeated:
        existing = await bulk.messages_by_provider_ids(
            conn, keys=[(e.integration_id, e.message.provider_message_id) for e in repeated]
        )
        for e in repeated:
            found = existing.get((e.integration_id, e.message.provider_message_id))
            if found is not None:
                ids = [derived_id(e.event_id, "message"), derived_id(e.event_id, "conversation")]
                await _again(conn, e, found, ids, out)


async def _attach_echoes(
    conn: Connection,
    events: Sequence[MessageReceived],
    conversation: Callable[[MessageReceived], UUID],
    out: Downstream,
) -> list[MessageReceived]:
    """The provider's echoes of our own sends (``fromMe``) that found their message: it takes
    the provider id and moves on (an update, not a second row). Returns the other events, to
    insert; statuses parked for the ids just learnt are applied now."""
    rest: list[MessageReceived] = []
    learnt: list[tuple[UUID, str]] = []
    for e in events:
        row = (
            await echoes.attach_echo(conn, event=e, conversation_id=conversation(e))
            if _is_outbound(e)
            else None
        )
        if row is None:
            rest.append(e)
            continue
        out.new.append(
            MessageUpdated(
                event_id=derived_id(e.event_id, "message"),
                message=message_view(row),
                traceparent=child(e.traceparent),
            )
        )
        learnt.append((e.integration_id, e.message.provider_message_id))
    if learnt:
        await _unpark_keys(conn, learnt, out)
    return rest


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


async def _change(conn: Connection, event: MessageReceived, out: Downstream) -> None:
    """A reaction, edit or deletion of an earlier message: the message updated, or (a
    redelivery) what the first delivery recorded; dropped when the message is unknown."""
    changed = await changes.apply(conn, event, outbound=_is_outbound(event))
    if changed.realtime:
        out.new += changed.realtime
        return
    target = await persist.message_by_provider_id(
        conn,
        integration_id=event.integration_id,
        provider_message_id=changed.target_provider_message_id,
    )
    if target is None:
        log.info(
            "change of an unknown message dropped",
            kind=event.message.type.value,
            integration_id=str(event.integration_id),
        )
        return
    await _again(conn, event, target, changed.event_ids, out)


async def _status(
    conn: Connection, tenant_id: UUID, event: StatusReported, out: Downstream
) -> None:
    for provider_message_id in event.provider_message_ids:
        key = (event.integration_id, provider_message_id)
        if key in out.parked:
            # Parked earlier in this batch, and the dispatcher has stored the id since.
            out.parked.discard(key)
            await _unpark_keys(conn, [key], out)
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
            # The provider's webhook is a trace of its own: point it at the send it reports on.
            link(event.traceparent, row["send_traceparent"], {"omni.link": "send"})
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
        if await _attach_by_client_id(conn, event, provider_message_id, event_id, out):
            continue
        out.parked.add(key)
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


async def _attach_by_client_id(
    conn: Connection,
    event: StatusReported,
    provider_message_id: str,
    event_id: UUID,
    out: Downstream,
) -> bool:
    """A status naming our client message id (Meta's ``biz_opaque_callback_data``) for a
    message whose provider id we never got (the send ended 'unknown', or its answer is still
    on the way): the message takes the id, then the status. False when nothing matched."""
    if event.client_message_id is None or len(event.provider_message_ids) != 1:
        return False
    attached = await echoes.attach_by_client_id(
        conn,
        integration_id=event.integration_id,
        client_message_id=event.client_message_id,
        provider_message_id=provider_message_id,
        reported_at=event.reported_at,
    )
    if attached is None:
        return False
    row = await persist.apply_status(
        conn,
        integration_id=event.integration_id,
        provider_message_id=provider_message_id,
        status=event.status,
        reported_at=event.reported_at,
        error_code=event.error.code if event.error else None,
        error_reason=event.error.title if event.error else None,
    )
    out.new.append(
        MessageUpdated(
            event_id=event_id,
            message=message_view(row if row is not None else attached),
            traceparent=child(event.traceparent),
        )
    )
    return True
