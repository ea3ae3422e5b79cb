"""Stored message rows → the ``MessageView`` snapshot agents see, in one place.

Every service that changes a message (ingest, dispatcher, media, the gateway) publishes the
whole message as the inbox shows it, so they must all map a row the same way. Content written
by other services is read leniently: what does not fit the view is left out rather than
failing the write that changed the row.
"""

from collections.abc import Mapping
from typing import Any, TypeVar

import asyncpg
from pydantic import BaseModel, ValidationError

from contracts.inbound import ContactCard, Location, MessageType, Order, Referral, ReplyChoice
from contracts.realtime import MediaView, MessageView, ReactionView
from contracts.status import MessageStatus

# An asyncpg.Record, or any mapping of column → value (tests).
Row = asyncpg.Record | Mapping[str, Any]
M = TypeVar("M", bound=BaseModel)


def _optional(model: type[M], value: Any) -> M | None:
    if value is None:
        return None
    try:
        return model.model_validate(value)
    except ValidationError:
        return None


def _many(model: type[M], value: Any) -> tuple[M, ...]:
    items = value if isinstance(value, list) else []
    return tuple(m for m in (_optional(model, i) for i in items) if m is not None)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


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
    """A message deleted for everyone by its author shows none of its content, to agents as to
    the customer's own phone; the row keeps it."""
    try:
        message_type = MessageType(row["type"])
    except ValueError:
        message_type = MessageType.UNSUPPORTED
    if row["deleted_at"] is not None:
        return MessageView(**_frame(row, message_type))
    content = row["content"] if isinstance(row["content"], dict) else {}
    return MessageView(
        **_frame(row, message_type),
        text=row["text"],
        caption=row["caption"],
        media=media_view(row),
        location=_optional(Location, content.get("location")),
        contacts=_many(ContactCard, content.get("contacts")),
        reply=_optional(ReplyChoice, content.get("reply")),
        order=_optional(Order, content.get("order")),
        referral=_optional(Referral, content.get("referral")),
        unsupported_reason=_text(content.get("unsupported_reason")),
    )


def _frame(row: Row, message_type: MessageType) -> dict[str, Any]:
    """What a message shows whatever became of it: who, when, its state; no content."""
    return dict(
        id=row["id"],
        conversation_id=row["conversation_id"],
        direction=row["direction"],
        type=message_type,
        status=MessageStatus(row["status"]),
        reply_to_message_id=row["reply_to_message_id"],
        reactions=_many(ReactionView, row["reactions"]),
        client_message_id=row["client_message_id"],
        provider_message_id=row["provider_message_id"],
        error_code=row["error_code"],
        error_reason=row["error_reason"],
        sender_name=row["sender_name"],
        # .get: rows read before migration 0011 (and test mappings) may lack the column.
        sent_from_phone=bool(row.get("sent_from_phone")),
        edited_at=row["edited_at"],
        deleted_at=row["deleted_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
