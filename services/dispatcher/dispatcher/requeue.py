"""What the stuck-message sweep does with an outbound message still 'queued', and the send
request it publishes again.

Pure. A message can stay queued because its request never reached the broker (the gateway
crashed after its commit), was dead-lettered, or is waiting behind a long backlog; publishing
the request again is safe because a send is claimed on the row before any provider call.
"""

from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import TypeAdapter, ValidationError

from contracts import OutboundContent, Provider, SendRequested
from telemetry.trace import new_traceparent


class SweepAction(Enum):
    WAIT = "wait"
    REPUBLISH = "republish"
    FAIL_STUCK = "fail_stuck"  # never attempted within the longer bound
    FAIL_UNKNOWN = "fail_unknown"  # attempted, and the attempt never reported back


def sweep_action(
    *,
    created_at: datetime,
    send_started_at: datetime | None,
    now: datetime,
    requeue_after_s: float,
    fail_after_s: float,
    unknown_after_s: float,
) -> SweepAction:
    if send_started_at is not None:
        if (now - send_started_at).total_seconds() >= unknown_after_s:
            return SweepAction.FAIL_UNKNOWN
        return SweepAction.WAIT
    age = (now - created_at).total_seconds()
    if age >= fail_after_s:
        return SweepAction.FAIL_STUCK
    if age >= requeue_after_s:
        return SweepAction.REPUBLISH
    return SweepAction.WAIT


_CONTENT: TypeAdapter[OutboundContent] = TypeAdapter(OutboundContent)


class NotRebuildable(ValueError):
    """The stored row does not hold a send request the sweep can publish again."""


def outbound_key(tenant_id: UUID, integration_id: UUID, chat_id: str) -> str:
    """The outbound topic's key for a conversation (tenant + integration + contact), the same
    the gateway publishes with, so a republished request joins its conversation's lane."""
    return f"{tenant_id}:{integration_id}:{chat_id}"


def _stored_content(stored: Any) -> Any:
    """The content part of ``messages.content``, which holds what the gateway accepted: its
    request body (``{client_message_id, content, reply_to_message_id}``), a whole
    ``SendRequested``, or the content alone."""
    if isinstance(stored, Mapping) and isinstance(stored.get("content"), Mapping):
        return stored["content"]
    return stored


def reaction_target(stored: Any) -> UUID | None:
    """The message a stored reaction points at, when it names our message id (the gateway's
    request) rather than the provider's id (the wire form)."""
    content = _stored_content(stored)
    if isinstance(content, Mapping) and content.get("kind") == "reaction":
        try:
            return UUID(str(content["message_id"]))
        except (KeyError, ValueError):
            return None
    return None


def rebuild_request(
    *,
    tenant_id: UUID,
    row: asyncpg.Record | Mapping[str, Any],
    provider: str,
    to: str | None,
    target_provider_message_id: str | None = None,
) -> SendRequested:
    """The send request of a stored outbound message.

    Ids always come from the row (a stale copy in ``content`` cannot point the request at
    another message); ``to`` is the conversation's chat id, as the gateway sends it; a
    reaction stored with our message id needs that message's provider id.
    """
    stored: Any = row["content"] or {}
    if isinstance(stored, Mapping) and stored.get("type") == "send.requested":
        to = to or stored.get("to")
    content: Any = _stored_content(stored)
    if reaction_target(stored) is not None:
        if not target_provider_message_id:
            raise NotRebuildable("the message reacted to has no provider id")
        content = {
            "kind": "reaction",
            "target_provider_message_id": target_provider_message_id,
            "emoji": content.get("emoji", ""),
        }
    try:
        parsed = _CONTENT.validate_python(content)
    except ValidationError as exc:
        raise NotRebuildable(f"stored content is not an outbound request: {exc}") from None
    if not to:
        raise NotRebuildable("the recipient is unknown")
    return SendRequested(
        tenant_id=tenant_id,
        message_id=row["id"],
        conversation_id=row["conversation_id"],
        integration_id=row["integration_id"],
        provider=Provider(provider),
        to=to,
        client_message_id=row["client_message_id"] or str(row["id"]),
        content=parsed,
        reply_to_provider_message_id=row["reply_to_provider_message_id"],
        traceparent=new_traceparent(),
    )
