"""Pure translations for the persister: inbound message → row values and preview text, stored
rows → the realtime snapshots agents see, and the deterministic ids of downstream events.

Downstream event ids are derived from the inbound event's id, so a redelivered event can find
the realtime events its first delivery recorded and publish exactly those again.
"""

from collections.abc import Mapping
from typing import Any
from uuid import UUID, uuid5

import asyncpg

from contracts import (
    ConversationView,
    MessageType,
    Provider,
)
from contracts.inbound import MEDIA_TYPES, InboundMessage, MediaRef

_NAMESPACE = UUID("6f1d3c0e-5a44-4c36-9d0e-4b1f7f0d2a11")

# A stored row: an asyncpg.Record or any mapping of column → value (tests).
Row = asyncpg.Record | Mapping[str, Any]


def derived_id(event_id: UUID, role: str) -> UUID:
    """The id of the downstream event ``role`` caused by inbound event ``event_id``."""
    return uuid5(_NAMESPACE, f"{event_id}:{role}")


_PLACEHOLDER: dict[MessageType, str] = {
    MessageType.IMAGE: "📷 Image",
    MessageType.VIDEO: "🎥 Video",
    MessageType.AUDIO: "🎵 Audio",
    MessageType.VOICE: "🎤 Voice message",
    MessageType.DOCUMENT: "📄 Document",
    MessageType.STICKER: "Sticker",
    MessageType.LOCATION: "📍 Location",
    MessageType.CONTACTS: "👤 Contact",
    MessageType.ORDER: "🛒 Order",
    MessageType.UNSUPPORTED: "Unsupported message",
}

PREVIEW_MAX = 200


def preview(message: InboundMessage) -> str:
    """The inbox line for a conversation whose latest message is ``message``."""
    text = message.text or message.caption
    if text is None and message.reply is not None:
        text = message.reply.title
    if text is None and message.type is MessageType.DOCUMENT and message.media is not None:
        text = message.media.filename
    if text is None:
        text = _PLACEHOLDER.get(message.type, message.type.value)
    return text[:PREVIEW_MAX]


def content_of(message: InboundMessage) -> dict[str, Any]:
    """What goes to ``messages.content``: the structured parts that have no column."""
    content: dict[str, Any] = {}
    if message.location is not None:
        content["location"] = message.location.model_dump(mode="json")
    if message.contacts:
        content["contacts"] = [c.model_dump(mode="json") for c in message.contacts]
    if message.reply is not None:
        content["reply"] = message.reply.model_dump(mode="json")
    if message.order is not None:
        content["order"] = message.order.model_dump(mode="json", exclude_none=True)
    if message.forwarded:
        content["forwarded"] = True
    if message.referral is not None:
        content["referral"] = message.referral.model_dump(mode="json", exclude_none=True)
    if message.unsupported_reason is not None:
        content["unsupported_reason"] = message.unsupported_reason
    if message.chat.kind != "direct":
        content["chat_kind"] = message.chat.kind
    return content


def media_of(message: InboundMessage) -> MediaRef | None:
    return message.media if message.type in MEDIA_TYPES else None


def media_ref_of(row: Row) -> MediaRef | None:
    """The provider reference of a stored message's attachment (to ask for it again)."""
    if row["media_provider_ref"] is None:
        return None
    return MediaRef(
        provider_ref=row["media_provider_ref"],
        mime=row["media_mime"],
        sha256=row["media_sha256"],
        size=row["media_size"],
        filename=row["media_filename"],
    )


def conversation_view(row: Row, contact: Row, provider: Provider) -> ConversationView:
    return ConversationView(
        id=row["id"],
        integration_id=row["integration_id"],
        provider=provider,
        contact_id=row["contact_id"],
        contact_name=contact["display_name"],
        contact_phone=contact["phone"],
        status=row["status"],
        assignee=row["assignee"],
        last_message_preview=row["last_message_preview"],
        last_message_at=row["last_message_at"],
        last_inbound_at=row["last_inbound_at"],
        unread_count=row["unread_count"],
        updated_at=row["updated_at"],
    )
