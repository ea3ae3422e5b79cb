"""Pure: a parsed, authenticated webhook of one integration → the events to publish.

A webhook's messages, statuses and synced contacts become ``MessageReceived`` /
``StatusReported`` / ``ContactSynced``, keyed by conversation ("tenant:integration:chat") so one
conversation's events stay in order on one partition. Every webhook is kept raw for the audit
log and replay: the first of its events carries it (``RawWebhook``); a webhook that makes no
event is recorded on its own (``WebhookRecorded``, keyed by integration).
"""

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from bus.publisher import Outgoing
from contracts import (
    ContactSynced,
    MessageReceived,
    Provider,
    RawWebhook,
    StatusReported,
    WebhookRecorded,
    topics,
)
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


def record(origin: Origin, body: bytes, *, error: str | None) -> Outgoing:
    """A webhook that made no event, recorded raw: refused by the parser (``error``) or
    accepted with nothing to act on."""
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
        event_count=0,
    )
    return Outgoing(topics.INBOUND, origin.stream, event)


def events(origin: Origin, parsed: ParsedWebhook, body: bytes) -> list[Outgoing]:
    """One event per message, status and synced contact, in the body's order, the first
    carrying the raw webhook; the raw record alone when there is none."""
    count = len(parsed.messages) + len(parsed.statuses) + len(parsed.contacts)
    if not count:
        return [record(origin, body, error=None)]
    routed = {
        "tenant_id": origin.tenant_id,
        "traceparent": origin.traceparent,
        "provider": origin.provider,
        "integration_id": origin.integration_id,
        "webhook_id": origin.webhook_id,
        "occurred_at": origin.received_at,  # what a webhook reports happened when it came in
    }
    raw: RawWebhook | None = RawWebhook(
        received_at=origin.received_at, body=body_text(body), event_count=count
    )
    out: list[Outgoing] = []
    for m in parsed.messages:
        received = MessageReceived(**routed, raw=raw, account_ref=m.account_ref, message=m.message)
        out.append(Outgoing(topics.INBOUND, conversation_key(origin, m.message.chat.id), received))
        raw = None
    for s in parsed.statuses:
        reported = StatusReported(
            **routed,
            raw=raw,
            account_ref=s.account_ref,
            provider_message_ids=s.provider_message_ids,
            status=s.status,
            recipient=s.recipient,
            reported_at=s.reported_at,
            error=s.error,
            provider_status_raw=s.provider_status_raw,
            client_message_id=s.client_message_id,
        )
        chat = s.recipient or ""
        out.append(Outgoing(topics.INBOUND, conversation_key(origin, chat), reported))
        raw = None
    for c in parsed.contacts:
        synced = ContactSynced(
            **routed,
            raw=raw,
            account_ref=c.account_ref,
            phone=c.phone,
            name=c.name,
            action=c.action,
            synced_at=c.synced_at,
        )
        out.append(Outgoing(topics.INBOUND, conversation_key(origin, c.phone), synced))
        raw = None
    return out


def published(items: list[Outgoing]) -> int:
    """How many of ``items`` are events (not a bare raw record): what the webhook's answer
    reports."""
    return sum(1 for item in items if not isinstance(item.event, WebhookRecorded))


def for_account(parsed: ParsedWebhook, account: str) -> ParsedWebhook:
    """The part of a multi-account webhook (Meta app-level) that concerns ``account``."""
    return ParsedWebhook(
        messages=tuple(m for m in parsed.messages if m.account_ref == account),
        statuses=tuple(s for s in parsed.statuses if s.account_ref == account),
        ignored=parsed.ignored,
        contacts=tuple(c for c in parsed.contacts if c.account_ref == account),
    )


def kept(parsed: ParsedWebhook, group_messages: str) -> ParsedWebhook:
    """What an integration keeps of a webhook: group chats' messages only when its
    ``group_messages`` setting is ``store``. The default, ``ignore``, drops them (named among
    the ignored): a support inbox answers people, and a group's chatter would bury them."""
    if group_messages == "store":
        return parsed
    groups = [m for m in parsed.messages if m.message.chat.kind == "group"]
    if not groups:
        return parsed
    return dataclasses.replace(
        parsed,
        messages=tuple(m for m in parsed.messages if m.message.chat.kind != "group"),
        ignored=parsed.ignored
        + tuple(f"group message {m.message.provider_message_id} ignored" for m in groups),
        # The body is still this account's: recorded and answered 200, never refused.
        quiet_accounts=parsed.quiet_accounts | {m.account_ref for m in groups},
    )
