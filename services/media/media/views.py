"""Stored message rows → the realtime snapshot agents see (pure).

The same mapping as the persister's (ingest) on purpose: the worker's ``message.updated`` must
carry the whole message exactly as the inbox shows it, not only the media part.
"""

from collections.abc import Mapping
from typing import Any
from uuid import UUID, uuid5

import asyncpg

from contracts import ContactCard, Location, MessageStatus, MessageType, MessageView, ReplyChoice
from contracts.realtime import MediaView, ReactionView

Row = asyncpg.Record | Mapping[str, Any]

_NAMESPACE = UUID("0b7e3f52-3d0c-4d7e-9a55-6c1f4b9e2d73")


def update_event_id(request_id: UUID, state: str) -> UUID:
    """The id of the ``message.updated`` a fetch request caused, so a redelivered request finds
    (and re-publishes) the event its first delivery recorded."""
    return uuid5(_NAMESPACE, f"{request_id}:media:{state}")


def media_view(row: Row) -> MediaView | None:
    if row["media_state"] is None:
        return None
    return MediaView(
        state=row["media_state"],
        mime=row["media_mime"],
        size=row["media_size"],
        filename=row["media_filename"],
        sha256=row["media_sha256"],
        error=row["media_error"],
    )


def message_view(row: Row) -> MessageView:
    content: Mapping[str, Any] = row["content"] or {}
    location = content.get("location")
    reply = content.get("reply")
    return MessageView(
        id=row["id"],
        conversation_id=row["conversation_id"],
        direction=row["direction"],
        type=MessageType(row["type"]),
        status=MessageStatus(row["status"]),
        text=row["text"],
        caption=row["caption"],
        media=media_view(row),
        location=Location.model_validate(location) if location else None,
        contacts=tuple(ContactCard.model_validate(c) for c in content.get("contacts", ())),
        reply=ReplyChoice.model_validate(reply) if reply else None,
        reply_to_message_id=row["reply_to_message_id"],
        reactions=tuple(ReactionView.model_validate(r) for r in row["reactions"] or ()),
        client_message_id=row["client_message_id"],
        provider_message_id=row["provider_message_id"],
        error_code=row["error_code"],
        error_reason=row["error_reason"],
        sender_name=row["sender_name"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
