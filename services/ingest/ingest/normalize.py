"""Pure: a parsed, authenticated webhook of one integration → the events to publish.

Every webhook is recorded raw (``WebhookRecorded``, for the audit log and replay); its messages
and statuses become ``MessageReceived`` / ``StatusReported``, keyed by conversation
("tenant:integration:chat") so one conversation's events stay in order on one partition. The
raw record takes its first event's key (the integration's when it has none).
"""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from bus.publisher import Outgoing
from contracts import MessageReceived, Provider, StatusReported, WebhookRecorded, topics
from providers.base import ParsedWebhook


@dataclass(frozen=True)
class Origin:
    """Where a webhook came from and when: shared by every event made from it."""

    tenant_id: UUID
    integration_id: UUID
    provider: Provider
    account: str
    webhook_id: UUID
    received_at: datetime
    traceparent: str
    stream: str  # "tenant:integration", the prefix of its conversations' keys (``Route.stream``)


def conversation_key(origin: Origin, chat_id: str) -> str:
    return f"{origin.stream}:{chat_id}"


def body_text(body: bytes) -> str:
    return body.decode("utf-8", errors="replace")


def record(
    origin: Origin, body: bytes, *, error: str | None, event_count: int, key: str | None = None
) -> Outgoing:
    event = WebhookRecorded(
        tenant_id=origin.tenant_id,
        traceparent=origin.traceparent,
        webhook_id=origin.webhook_id,
        provider=origin.provider,
        integration_id=origin.integration_id,
        occurred_at=origin.received_at,
        received_at=origin.received_at,
        body=body_text(body),
        outcome="failed" if error is not None else "accepted",
        error=error,
        event_count=event_count,
    )
    return Outgoing(topics.INBOUND, key or origin.stream, event)


def events(origin: Origin, parsed: ParsedWebhook, body: bytes) -> list[Outgoing]:
    """The raw record first, then one event per message and status, in the body's order."""
    routed = {
        "tenant_id": origin.tenant_id,
        "traceparent": origin.traceparent,
        "provider": origin.provider,
        "integration_id": origin.integration_id,
        "webhook_id": origin.webhook_id,
        "occurred_at": origin.received_at,  # what a webhook reports happened when it came in
    }
    out: list[Outgoing] = []
    for m in parsed.messages:
        received = MessageReceived(**routed, account_ref=m.account_ref, message=m.message)
        out.append(Outgoing(topics.INBOUND, conversation_key(origin, m.message.chat.id), received))
    for s in parsed.statuses:
        reported = StatusReported(
            **routed,
            account_ref=s.account_ref,
            provider_message_ids=s.provider_message_ids,
            status=s.status,
            recipient=s.recipient,
            reported_at=s.reported_at,
            error=s.error,
            provider_status_raw=s.provider_status_raw,
        )
        chat = s.recipient or ""
        out.append(Outgoing(topics.INBOUND, conversation_key(origin, chat), reported))
    # The raw record rides on its first event's key: a webhook (usually one conversation's)
    # then lands on one partition, in one batch, and the records of one integration are not
    # all piled onto a single partition.
    first_key = out[0].key if out else None
    return [record(origin, body, error=None, event_count=len(out), key=first_key), *out]


def for_account(parsed: ParsedWebhook, account: str) -> ParsedWebhook:
    """The part of a multi-account webhook (Meta app-level) that concerns ``account``."""
    return ParsedWebhook(
        messages=tuple(m for m in parsed.messages if m.account_ref == account),
        statuses=tuple(s for s in parsed.statuses if s.account_ref == account),
        ignored=parsed.ignored,
    )
