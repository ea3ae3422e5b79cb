"""Events on the realtime topic: what agents' inboxes must show, as snapshots.

Snapshots rather than diffs, so a client that applies an event twice (or a replayed one)
ends in the same state. ``cursor`` is the per-tenant position the gateway resumes from.
"""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from contracts.common import Frozen, Provider
from contracts.envelope import Event
from contracts.inbound import ContactCard, Location, MessageType, Order, Referral, ReplyChoice
from contracts.status import MessageStatus


class MediaView(Frozen):
    state: Literal["pending", "stored", "failed"]
    mime: str | None = None
    size: int | None = None
    filename: str | None = None
    sha256: str | None = None
    error: str | None = None


class ReactionView(Frozen):
    emoji: str
    direction: Literal["inbound", "outbound"]


class MessageView(Frozen):
    id: UUID
    conversation_id: UUID
    direction: Literal["inbound", "outbound"]
    type: MessageType
    status: MessageStatus
    text: str | None = None
    caption: str | None = None
    media: MediaView | None = None
    location: Location | None = None
    contacts: tuple[ContactCard, ...] = ()
    reply: ReplyChoice | None = None
    order: Order | None = None  # a cart from the catalog; ``text`` sums it up
    referral: Referral | None = None  # the ad that brought the customer
    unsupported_reason: str | None = None  # why an unsupported message shows no content
    reply_to_message_id: UUID | None = None
    reactions: tuple[ReactionView, ...] = ()
    client_message_id: str | None = None
    provider_message_id: str | None = None
    error_code: str | None = None
    error_reason: str | None = None
    sender_name: str | None = None
    # An outbound message the business sent outside this system: typed in the WhatsApp
    # Business app or on the phone (Meta ``smb_message_echoes``, Evolution/Z-API ``fromMe``).
    sent_from_phone: bool = False
    # Set when its author edited it (text or caption, the latest edit's time) or deleted it
    # for everyone; a deleted message shows no content (the database keeps it).
    edited_at: datetime | None = None
    deleted_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class ConversationView(Frozen):
    id: UUID
    integration_id: UUID
    provider: Provider
    contact_id: UUID
    contact_name: str | None = None
    contact_phone: str | None = None
    status: Literal["open", "closed"]
    assignee: str | None = None
    last_message_preview: str | None = None
    last_message_at: datetime | None = None
    last_inbound_at: datetime | None = None
    unread_count: int = 0
    updated_at: datetime


class _Realtime(Event):
    cursor: int | None = None


class MessageCreated(_Realtime):
    type: Literal["message.created"] = "message.created"
    message: MessageView


class MessageUpdated(_Realtime):
    type: Literal["message.updated"] = "message.updated"
    message: MessageView


class ConversationUpdated(_Realtime):
    type: Literal["conversation.updated"] = "conversation.updated"
    conversation: ConversationView


RealtimeEvent = Annotated[
    MessageCreated | MessageUpdated | ConversationUpdated, Field(discriminator="type")
]
