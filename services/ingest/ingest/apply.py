"""Applying inbound events to the database: one transaction per tenant per batch, then the
downstream events (realtime snapshots, media fetch requests) to publish after commit.

A redelivered event changes nothing (ON CONFLICT / forward-only updates) but finds, by their
derived ids, the realtime events its first delivery recorded, and hands them back to be
published again: a crash between commit and publish loses nothing.
"""

from collections.abc import Callable, Sequence
from uuid import UUID

import asyncpg
import structlog

from contracts import (
    ContactSynced,
    ConversationUpdated,
    MessageCreated,
    MessageReceived,
    MessageStatus,
    MessageType,
    MessageUpdated,
    StatusReported,
)
from contracts.inbound import InboundEvent
from db import realtime_log
from db.snapshots import message_view
from db.tenant import Connection
from ingest import bulk, changes, contacts, echoes, persist, statuses
from ingest.downstream import REALTIME, Downstream, again, media_request, unpark_keys
from ingest.views import (
    content_of,
    conversation_view,
    derived_id,
    media_of,
    preview,
)
from telemetry.tracing import child

log = structlog.get_logger(__name__)

# Inbound "messages" that are no message of their own but change an earlier one.
_CHANGES = frozenset({MessageType.REACTION, MessageType.EDIT, MessageType.REVOKE})


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
        _take(await contacts.number_changes(conn, messages), out)
    await statuses.unpark(conn, [e for e in events if isinstance(e, StatusReported)], out)
    for event in events:
        if isinstance(event, StatusReported):
            await statuses.apply(conn, tenant_id, event, out)
        elif isinstance(event, MessageReceived) and event.message.type in _CHANGES:
            await _change(conn, event, out)
        elif isinstance(event, ContactSynced):
            _take(await contacts.synced(conn, event), out)
    # The cursors follow this mixed order.
    out.new = await realtime_log.record(conn, tenant_id, out.new)
    return out


def _take(change: contacts.ContactChange, out: Downstream) -> None:
    out.new += change.new
    out.again += [REALTIME.validate_python(p) for p in change.again]


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
        elif e.message.chat.kind != "direct":  # the contact is the group; its subject names it
            phone, lid, name = None, None, e.message.chat.name
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
        # An echo still here found no message the dispatcher sent (``_attach_echoes``): the
        # business wrote it elsewhere, in the WhatsApp Business app or on the phone.
        sent_from_phone=outbound,
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
        # WhatsApp's own notes are no customer's message: no unread, no 24-hour window.
        inbound = not _is_outbound(event) and event.message.type is not MessageType.SYSTEM
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
                # When the webhook came in: the gateway measures webhook → frame from it.
                occurred_at=e.occurred_at,
                message=message_view(row),
                traceparent=trace,
            )
        )
        last_event[row["conversation_id"]] = e
        media = media_of(e.message)
        if media is not None:
            out.media.append(media_request(e, row, media_ref=media))
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
                await again(conn, e, found, ids, out)


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
        await unpark_keys(conn, learnt, out)
    return rest


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
    await again(conn, event, target, changed.event_ids, out)
