"""Contract events as ingest-api would publish them, for tests that feed the worker directly."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from bus.publisher import Outgoing
from contracts import (
    Chat,
    MessageReceived,
    MessageStatus,
    MessageType,
    Provider,
    Sender,
    StatusReported,
    WebhookRecorded,
    topics,
)
from contracts.inbound import InboundMessage
from tests.ingest.conftest import Integration

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def inbound(
    integ: Integration,
    provider_message_id: str,
    *,
    chat: str = "5511999990000",
    name: str | None = "Ana",
    type_: MessageType = MessageType.TEXT,
    seconds: int = 0,
    **content: object,
) -> MessageReceived:
    if type_ is MessageType.TEXT and "text" not in content:
        content["text"] = f"hello {provider_message_id}"
    return MessageReceived(
        tenant_id=integ.tenant_id,
        provider=Provider(integ.provider),
        integration_id=integ.integration_id,
        account_ref=integ.account,
        webhook_id=uuid4(),
        message=InboundMessage(
            provider_message_id=provider_message_id,
            chat=Chat(id=chat),
            sender=Sender(phone=chat, wa_id=chat, display_name=name),
            sent_at=T0 + timedelta(seconds=seconds),
            type=type_,
            **content,  # type: ignore[arg-type]
        ),
    )


def status(
    integ: Integration, provider_message_id: str, value: MessageStatus, *, seconds: int = 0
) -> StatusReported:
    return StatusReported(
        tenant_id=integ.tenant_id,
        provider=Provider(integ.provider),
        integration_id=integ.integration_id,
        account_ref=integ.account,
        webhook_id=uuid4(),
        provider_message_ids=(provider_message_id,),
        status=value,
        reported_at=T0 + timedelta(seconds=seconds),
    )


def webhook(integ: Integration, body: str, outcome: str = "accepted") -> WebhookRecorded:
    return WebhookRecorded(
        tenant_id=integ.tenant_id,
        webhook_id=uuid4(),
        provider=Provider(integ.provider),
        integration_id=integ.integration_id,
        received_at=T0,
        body=body,
        outcome=outcome,  # type: ignore[arg-type]
    )


def keyed(
    integ: Integration, *events: MessageReceived | StatusReported | WebhookRecorded
) -> list[Outgoing]:
    key = f"{integ.tenant_id}:{integ.integration_id}:5511999990000"
    return [Outgoing(topics.INBOUND, key, e) for e in events]
