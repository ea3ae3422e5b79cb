"""Rows → the contract snapshots (MessageView, ConversationView) the REST API and the realtime
events share, so a client renders both with the same code."""

from typing import Any

import asyncpg
from pydantic import ValidationError

from contracts.inbound import ContactCard, Location, MessageType, ReplyChoice
from contracts.realtime import ConversationView, MediaView, MessageView, ReactionView
from contracts.status import MessageStatus


def _optional(model: Any, value: Any) -> Any:
    """Content written by other services is read leniently: what does not fit is left out."""
    if value is None:
        return None
    try:
        return model.model_validate(value)
    except ValidationError:
        return None


def _reactions(value: Any) -> tuple[ReactionView, ...]:
    items = value if isinstance(value, list) else []
    return tuple(r for r in (_optional(ReactionView, i) for i in items) if r is not None)


def _contacts(value: Any) -> tuple[ContactCard, ...]:
    items = value if isinstance(value, list) else []
    return tuple(c for c in (_optional(ContactCard, i) for i in items) if c is not None)


def message_view(row: asyncpg.Record) -> MessageView:
    content = row["content"] if isinstance(row["content"], dict) else {}
    media = None
    if row["media_state"] is not None:
        media = MediaView(
            state=row["media_state"],
            mime=row["media_mime"],
            size=row["media_size"],
            filename=row["media_filename"],
            sha256=row["media_sha256"],
            error=row["media_error"],
        )
    try:
        message_type = MessageType(row["type"])
    except ValueError:
        message_type = MessageType.UNSUPPORTED
    return MessageView(
        id=row["id"],
        conversation_id=row["conversation_id"],
        direction=row["direction"],
        type=message_type,
        status=MessageStatus(row["status"]),
        text=row["text"],
        caption=row["caption"],
        media=media,
        location=_optional(Location, content.get("location")),
        contacts=_contacts(content.get("contacts")),
        reply=_optional(ReplyChoice, content.get("reply")),
        reply_to_message_id=row["reply_to_message_id"],
        reactions=_reactions(row["reactions"]),
        client_message_id=row["client_message_id"],
        provider_message_id=row["provider_message_id"],
        error_code=row["error_code"],
        error_reason=row["error_reason"],
        sender_name=row["sender_name"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def conversation_view(row: asyncpg.Record) -> ConversationView:
    return ConversationView(
        id=row["id"],
        integration_id=row["integration_id"],
        provider=row["provider"],
        contact_id=row["contact_id"],
        contact_name=row["contact_name"],
        contact_phone=row["contact_phone"],
        status=row["status"],
        assignee=row["assignee"],
        last_message_preview=row["last_message_preview"],
        last_message_at=row["last_message_at"],
        last_inbound_at=row["last_inbound_at"],
        unread_count=row["unread_count"],
        updated_at=row["updated_at"],
    )
