"""Queueing an agent's message: validate, store it ``queued`` (idempotent by client id), record
the realtime events, and hand the send request to the dispatcher after commit."""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg

from contracts import topics
from contracts.outbound import (
    OutboundContent,
    OutboundMedia,
    OutboundReaction,
    OutboundTemplate,
    OutboundText,
    SendRequested,
)
from contracts.realtime import ConversationUpdated, MessageCreated
from db.snapshots import message_view
from realtime.api.models import MessageContent, NewMessage, ReactionRequest
from realtime.deps import Tx
from realtime.errors import Conflict, Unprocessable
from realtime.store import conversations, messages
from realtime.views import conversation_view
from realtime.window import window_open
from telemetry import tracing

_MIME_PREFIX = {"image": "image/", "video": "video/", "audio": "audio/", "sticker": "image/"}


def check_sendable(
    content: MessageContent, *, tenant_id: UUID, last_inbound_at: datetime | None, now: datetime
) -> None:
    """Pure rules: the 24-hour window and media that is ours and what it claims to be."""
    if not isinstance(content, OutboundTemplate) and not window_open(last_inbound_at, now):
        since = last_inbound_at.isoformat() if last_inbound_at else "never"
        raise Unprocessable(
            "The 24-hour customer service window is closed (customer's last message: "
            f"{since}). Only an approved template can be sent now.",
            code="window_closed",
        )
    if isinstance(content, OutboundMedia):
        if not content.media_key.startswith(f"{tenant_id}/"):
            raise Unprocessable(
                "media_key must be a key from the media service's upload for your tenant",
                code="invalid_media_key",
            )
        prefix = _MIME_PREFIX.get(content.media_type)
        if prefix is not None and not content.mime.startswith(prefix):
            raise Unprocessable(
                f"mime {content.mime!r} does not fit media_type {content.media_type!r}",
                code="invalid_media_mime",
            )


def _columns(content: MessageContent) -> dict[str, Any]:
    if isinstance(content, OutboundText):
        return {"type": "text", "text": content.body}
    if isinstance(content, OutboundMedia):
        return {
            "type": content.media_type,
            "caption": content.caption,
            "media_state": "stored",
            "media_key": content.media_key,
            "media_mime": content.mime,
            "media_filename": content.filename,
        }
    if isinstance(content, OutboundTemplate):
        return {"type": "template", "text": content.name}
    return {"type": "reaction", "text": content.emoji}


def _preview(content: MessageContent) -> str:
    if isinstance(content, OutboundText):
        return content.body
    if isinstance(content, OutboundMedia):
        return content.caption or f"[{content.media_type}]"
    if isinstance(content, OutboundTemplate):
        return f"[template {content.name}]"
    return content.emoji


async def _provider_id(tx: Tx, conversation_id: UUID, message_id: UUID, what: str) -> str:
    exists, provider_id = await messages.provider_id_of(
        tx.conn, conversation_id=conversation_id, message_id=message_id
    )
    if not exists:
        raise Unprocessable(f"{what} is not a message of this conversation", code=f"{what}_unknown")
    if provider_id is None:
        raise Unprocessable(
            f"{what} has not reached the provider yet; try again once it is sent",
            code=f"{what}_not_sent",
        )
    return provider_id


async def queue_outbound(tx: Tx, conversation: asyncpg.Record, body: NewMessage) -> asyncpg.Record:
    """The stored message. The same ``client_message_id`` again returns the first message and
    sends nothing more (the unique index decides, not memory)."""
    # A repeat is found by the insert's conflict below (no lookup for the first request),
    # or here when the window closed since the first was accepted.
    try:
        check_sendable(
            body.content,
            tenant_id=tx.tenant_id,
            last_inbound_at=conversation["last_inbound_at"],
            now=datetime.now(UTC),
        )
    except Unprocessable:
        existing = await messages.by_client_id(tx.conn, client_message_id=body.client_message_id)
        if existing is not None:
            return _same_conversation(existing, conversation)
        raise
    conversation_id: UUID = conversation["id"]
    # The request's span (tracing on): the send's trace runs from here to the provider call.
    trace = tracing.current_traceparent()
    reply_to = None
    if body.reply_to_message_id is not None:
        reply_to = await _provider_id(tx, conversation_id, body.reply_to_message_id, "reply_target")
    wire: OutboundContent
    if isinstance(body.content, ReactionRequest):
        target = await _provider_id(tx, conversation_id, body.content.message_id, "reaction_target")
        wire = OutboundReaction(target_provider_message_id=target, emoji=body.content.emoji)
    else:
        wire = body.content
    row = await messages.insert_outbound(
        tx.conn,
        tenant_id=tx.tenant_id,
        conversation_id=conversation_id,
        integration_id=conversation["integration_id"],
        client_message_id=body.client_message_id,
        content=body.model_dump(mode="json"),
        reply_to_message_id=body.reply_to_message_id,
        reply_to_provider_message_id=reply_to,
        send_traceparent=trace,  # the statuses' spans link back to it (migration 0011)
        **_columns(body.content),
    )
    if row is None:  # a concurrent request with the same key won the insert
        raced = await messages.by_client_id(tx.conn, client_message_id=body.client_message_id)
        assert raced is not None
        return _same_conversation(raced, conversation)
    updated = await conversations.touch_outbound(
        tx.conn, conversation_id=conversation_id, preview=_preview(body.content)
    )
    assert updated is not None
    await tx.record(
        [
            MessageCreated(message=message_view(row), traceparent=trace),
            ConversationUpdated(conversation=conversation_view(updated), traceparent=trace),
        ]
    )
    request = SendRequested(
        tenant_id=tx.tenant_id,
        message_id=row["id"],
        conversation_id=conversation_id,
        integration_id=conversation["integration_id"],
        provider=conversation["provider"],
        to=conversation["chat_id"],
        client_message_id=body.client_message_id,
        content=wire,
        reply_to_provider_message_id=reply_to,
        traceparent=trace,
    )
    tx.publish_after_commit(topics.OUTBOUND, request, conversation_key(tx.tenant_id, conversation))
    return row


def conversation_key(tenant_id: UUID, conversation: asyncpg.Record) -> str:
    """Outbound records are keyed by conversation, so one chat's sends stay in order."""
    return f"{tenant_id}:{conversation['integration_id']}:{conversation['chat_id']}"


def _same_conversation(message: asyncpg.Record, conversation: asyncpg.Record) -> asyncpg.Record:
    if message["conversation_id"] != conversation["id"]:
        raise Conflict(
            "this client_message_id was already used for another conversation",
            code="idempotency_key_reused",
        )
    return message
