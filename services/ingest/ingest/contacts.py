"""Contacts changed by what WhatsApp or the business's own phone reports rather than by a
message: a customer who moved to a new number (Meta ``system``, ``user_changed_number``) and
the business's WhatsApp Business app address book (Meta coexistence, ``smb_app_state_sync``).

Each change makes a ``conversation.updated`` of the contact's conversation (the inbox shows the
contact's name and phone), its id derived from the inbound event's, so a redelivery that
changes nothing publishes what the first delivery recorded. Same conventions as ``persist``:
the caller's tenant transaction, one function per query.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg
import structlog

from contracts import ContactSynced, ConversationUpdated, MessageReceived, Provider
from db.tenant import Connection
from ingest import persist
from ingest.views import conversation_view, derived_id
from telemetry.tracing import child

log = structlog.get_logger(__name__)


@dataclass
class ContactChange:
    new: list[ConversationUpdated] = field(default_factory=list)  # to record and publish
    again: list[Any] = field(default_factory=list)  # payloads an earlier delivery recorded


async def number_changes(conn: Connection, events: Sequence[MessageReceived]) -> ContactChange:
    """Customers who moved to a new number (a system message, just stored with the rest of
    its batch): their contact follows (``number_changed``)."""
    done = ContactChange()
    for e in events:
        if e.message.number_change is None:
            continue
        stored = await persist.message_by_provider_id(
            conn, integration_id=e.integration_id, provider_message_id=e.message.provider_message_id
        )
        if stored is not None:
            changed = await number_changed(conn, e, stored["conversation_id"])
            done.new += changed.new
            done.again += changed.again
    return done


async def number_changed(
    conn: Connection, event: MessageReceived, conversation_id: UUID
) -> ContactChange:
    """The contact of ``event``'s chat takes the customer's new WhatsApp id, as its chat id
    (so the customer's next messages, from the new number, continue its conversation, and
    replies go there) and as its phone. Left as it is when the new number already has a
    contact of its own (the customer wrote from it first): two conversations are then kept
    rather than merged behind the agents' backs."""
    change = event.message.number_change
    assert change is not None
    event_id = derived_id(event.event_id, "number")
    contact = await conn.fetchrow(
        """
        UPDATE contacts c SET external_id = $3, phone = $3
         WHERE c.integration_id = $1 AND c.external_id = $2
           AND NOT EXISTS (SELECT 1 FROM contacts k
                           WHERE k.integration_id = $1 AND k.external_id = $3)
        RETURNING c.*
        """,
        event.integration_id,
        event.message.chat.id,
        change.new_wa_id,
    )
    if contact is None:
        log.info(
            "number change not applied (already applied, or the new number has a contact)",
            integration_id=str(event.integration_id),
        )
        return ContactChange(
            again=await persist.recorded_realtime(
                conn, conversation_id=conversation_id, event_ids=[event_id]
            )
        )
    return ContactChange(new=await _conversations_of(conn, contact, event, event_id))


async def synced(conn: Connection, event: ContactSynced) -> ContactChange:
    """``add`` (a contact saved or renamed on the business's phone): the contact takes the
    address book's name, and keeps it over the customer's own profile name from then on
    (``named_on_phone``); a contact not known yet is created, ready for its first message.
    ``remove`` changes nothing: the conversation and its history stay, and the name last
    saved is still the best one the agents have."""
    event_id = derived_id(event.event_id, "contact")
    if event.action == "remove" or not event.name:
        return ContactChange()
    contact = await conn.fetchrow(
        """
        INSERT INTO contacts AS c (tenant_id, integration_id, external_id, phone, display_name,
                                   named_on_phone)
        VALUES ($1, $2, $3, $3, $4, true)
        ON CONFLICT (integration_id, external_id) DO UPDATE SET
            display_name = EXCLUDED.display_name, named_on_phone = true
        WHERE c.display_name IS DISTINCT FROM EXCLUDED.display_name OR NOT c.named_on_phone
        RETURNING c.*
        """,
        event.tenant_id,
        event.integration_id,
        event.phone,
        event.name,
    )
    if contact is not None:
        return ContactChange(new=await _conversations_of(conn, contact, event, event_id))
    again: list[Any] = []
    for conversation_id in await conn.fetch(
        "SELECT v.id FROM conversations v JOIN contacts c ON c.id = v.contact_id "
        "WHERE c.integration_id = $1 AND c.external_id = $2",
        event.integration_id,
        event.phone,
    ):
        again += await persist.recorded_realtime(
            conn, conversation_id=conversation_id["id"], event_ids=[event_id]
        )
    return ContactChange(again=again)


async def _conversations_of(
    conn: Connection,
    contact: asyncpg.Record,
    event: MessageReceived | ContactSynced,
    event_id: UUID,
) -> list[ConversationUpdated]:
    rows = await conn.fetch(
        "UPDATE conversations SET updated_at = now() WHERE contact_id = $1 RETURNING *",
        contact["id"],
    )
    return [
        ConversationUpdated(
            event_id=event_id,
            conversation=conversation_view(row, contact, Provider(event.provider)),
            traceparent=child(event.traceparent),
        )
        for row in rows
    ]
