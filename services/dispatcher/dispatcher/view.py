"""The stored message row → the ``MessageView`` snapshot agents' inboxes apply.

Pure. Columns map one to one; ``reactions`` is read leniently (entries that do not fit the
view are left out rather than failing the send that changed the row).
"""

from collections.abc import Mapping
from typing import Any

import asyncpg
from pydantic import ValidationError

from contracts import MessageStatus, MessageType, MessageView
from contracts.realtime import MediaView, ReactionView

# An asyncpg.Record, or any mapping of column → value (tests).
Row = asyncpg.Record | Mapping[str, Any]


def _message_type(value: str) -> MessageType:
    try:
        return MessageType(value)
    except ValueError:
        return MessageType.UNSUPPORTED


def _reactions(value: Any) -> tuple[ReactionView, ...]:
    views: list[ReactionView] = []
    for item in value if isinstance(value, list) else []:
        try:
            views.append(ReactionView.model_validate(item))
        except ValidationError:
            continue
    return tuple(views)


def _media(row: Row) -> MediaView | None:
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
    return MessageView(
        id=row["id"],
        conversation_id=row["conversation_id"],
        direction=row["direction"],
        type=_message_type(row["type"]),
        status=MessageStatus(row["status"]),
        text=row["text"],
        caption=row["caption"],
        media=_media(row),
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
