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


def rebuild_request(
    *,
    tenant_id: UUID,
    row: asyncpg.Record | Mapping[str, Any],
    provider: str,
    to: str | None,
) -> SendRequested:
    """The send request of a stored outbound message.

    ``messages.content`` holds what the gateway accepted: either the whole ``SendRequested``
    or its ``content`` part. Ids always come from the row (a stale copy in ``content`` cannot
    point the request at another message); the recipient is the one the gateway chose, else
    ``to`` (the contact's chat id).
    """
    stored: Any = row["content"] or {}
    if isinstance(stored, Mapping) and stored.get("type") == "send.requested":
        to = stored.get("to") or to
        stored = stored.get("content")
    try:
        content = _CONTENT.validate_python(stored)
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
        content=content,
        reply_to_provider_message_id=row["reply_to_provider_message_id"],
        traceparent=new_traceparent(),
    )
