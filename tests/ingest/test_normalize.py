"""Pure parts of ingest: inbox previews and the events a parsed webhook becomes."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from contracts import Chat, MessageReceived, MessageType, Provider, Sender, WebhookRecorded
from contracts.inbound import InboundMessage, MediaRef
from ingest import normalize
from ingest.views import PREVIEW_MAX, derived_id, preview
from providers.base import ParsedMessage, ParsedWebhook

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def _message(type_: MessageType, **content: object) -> InboundMessage:
    return InboundMessage(
        provider_message_id="m1",
        chat=Chat(id="5511"),
        sender=Sender(phone="5511"),
        sent_at=NOW,
        type=type_,
        **content,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (_message(MessageType.TEXT, text="oi"), "oi"),
        (_message(MessageType.IMAGE, caption="foto", media=MediaRef(provider_ref="r")), "foto"),
        (_message(MessageType.IMAGE, media=MediaRef(provider_ref="r")), "📷 Image"),
        (
            _message(MessageType.DOCUMENT, media=MediaRef(provider_ref="r", filename="nf.pdf")),
            "nf.pdf",
        ),
        (_message(MessageType.TEXT, text="x" * 500), "x" * PREVIEW_MAX),
    ],
)
def test_preview_is_the_text_caption_or_a_label(message: InboundMessage, expected: str) -> None:
    assert preview(message) == expected


def test_derived_ids_are_stable_per_event_and_role() -> None:
    event_id = uuid4()
    assert derived_id(event_id, "message") == derived_id(event_id, "message")
    assert derived_id(event_id, "message") != derived_id(event_id, "conversation")


def test_a_webhook_becomes_its_record_then_its_messages_keyed_by_conversation() -> None:
    tenant_id, integration_id = uuid4(), uuid4()
    origin = normalize.Origin(
        tenant_id=tenant_id,
        integration_id=integration_id,
        provider=Provider.META,
        account="pn1",
        webhook_id=uuid4(),
        received_at=NOW,
        traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        stream=f"{tenant_id}:{integration_id}",
    )
    parsed = ParsedWebhook(messages=(ParsedMessage("pn1", _message(MessageType.TEXT, text="a")),))
    out = normalize.events(origin, parsed, b'{"x": 1}')
    assert isinstance(out[0].event, WebhookRecorded) and out[0].event.event_count == 1
    assert isinstance(out[1].event, MessageReceived)
    assert out[1].key == f"{origin.tenant_id}:{origin.integration_id}:5511"
    assert out[0].key == out[1].key, "the raw record goes with its conversation"
    assert all(o.event.traceparent == origin.traceparent for o in out)
    assert all(o.event.occurred_at == NOW for o in out)
    assert normalize.for_account(parsed, "other").messages == ()
