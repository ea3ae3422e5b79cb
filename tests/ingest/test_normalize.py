"""Pure parts of ingest: inbox previews and the events a parsed webhook becomes."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from contracts import (
    Chat,
    ContactSynced,
    MessageReceived,
    MessageStatus,
    MessageType,
    Provider,
    Sender,
    StatusReported,
    WebhookRecorded,
)
from contracts.inbound import InboundMessage, MediaRef
from ingest import normalize
from ingest.views import PREVIEW_MAX, derived_id, preview
from providers.base import ParsedContact, ParsedMessage, ParsedStatus, ParsedWebhook

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


def _origin() -> normalize.Origin:
    tenant_id, integration_id = uuid4(), uuid4()
    return normalize.Origin(
        tenant_id=tenant_id,
        integration_id=integration_id,
        provider=Provider.META,
        account="pn1",
        webhook_id=uuid4(),
        received_at=NOW,
        traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        stream=f"{tenant_id}:{integration_id}",
    )


def test_a_webhook_becomes_its_events_keyed_by_conversation_the_first_carrying_it_raw() -> None:
    origin = _origin()
    first = _message(MessageType.TEXT, text="a")
    other_chat = first.model_copy(update={"chat": Chat(id="5522"), "provider_message_id": "m2"})
    parsed = ParsedWebhook(messages=(ParsedMessage("pn1", first), ParsedMessage("pn1", other_chat)))
    out = normalize.events(origin, parsed, b'{"x": "\xff"}')
    assert [type(o.event) for o in out] == [MessageReceived, MessageReceived]
    assert [o.key for o in out] == [
        f"{origin.tenant_id}:{origin.integration_id}:5511",
        f"{origin.tenant_id}:{origin.integration_id}:5522",
    ]
    raw = out[0].event.raw  # type: ignore[union-attr]
    assert raw is not None
    assert (raw.body, raw.event_count, raw.received_at) == ('{"x": "\ufffd"}', 2, NOW)
    assert out[1].event.raw is None  # type: ignore[union-attr]
    assert normalize.published(out) == 2
    assert all(o.event.traceparent == origin.traceparent for o in out)
    assert all(o.event.occurred_at == NOW for o in out)
    assert normalize.for_account(parsed, "other").messages == ()


def test_a_webhook_with_no_event_is_recorded_on_its_own() -> None:
    origin = _origin()
    out = normalize.events(origin, ParsedWebhook(ignored=("group chat",)), b"{}")
    assert len(out) == 1 and isinstance(out[0].event, WebhookRecorded)
    assert (out[0].event.outcome, out[0].event.event_count) == ("accepted", 0)
    assert out[0].key == origin.stream
    assert normalize.published(out) == 0


def test_a_status_webhook_s_first_status_carries_it_raw() -> None:
    origin = _origin()
    statuses = tuple(
        ParsedStatus("pn1", (f"wamid.{n}",), MessageStatus.DELIVERED, NOW, recipient="5511")
        for n in range(3)
    )
    out = normalize.events(origin, ParsedWebhook(statuses=statuses), b'{"s": 3}')
    assert [type(o.event) for o in out] == [StatusReported] * 3
    carried = [o.event.raw for o in out if o.event.raw is not None]  # type: ignore[union-attr]
    assert [(r.body, r.event_count) for r in carried] == [('{"s": 3}', 3)]
    assert out[0].event.raw is carried[0]  # type: ignore[union-attr]


def test_group_messages_are_kept_only_when_the_integration_stores_them() -> None:
    direct = _message(MessageType.TEXT, text="a")
    group = direct.model_copy(
        update={"chat": Chat(kind="group", id="1203@g.us"), "provider_message_id": "g1"}
    )
    parsed = ParsedWebhook(messages=(ParsedMessage("pn1", direct), ParsedMessage("pn1", group)))
    assert normalize.kept(parsed, "store") is parsed
    ignoring = normalize.kept(parsed, "ignore")
    assert [m.message for m in ignoring.messages] == [direct]
    assert ignoring.ignored == ("group message g1 ignored",)
    # A body of only group messages is still its number's: recorded, answered 200.
    only = normalize.kept(ParsedWebhook(messages=(ParsedMessage("pn1", group),)), "ignore")
    assert not only.messages and only.named_accounts == {"pn1"}
    out = normalize.events(_origin(), only, b"{}")
    assert [type(o.event) for o in out] == [WebhookRecorded]


def test_synced_contacts_become_events_keyed_by_their_chat() -> None:
    origin = _origin()
    contacts = (
        ParsedContact("pn1", "5511", "Maria (loja)", "add", NOW),
        ParsedContact("pn1", "5522", None, "remove", NOW),
    )
    out = normalize.events(origin, ParsedWebhook(contacts=contacts), b"{}")
    assert [type(o.event) for o in out] == [ContactSynced, ContactSynced]
    assert out[0].key == f"{origin.stream}:5511" and out[0].event.raw is not None  # type: ignore[union-attr]
    first = out[0].event
    assert isinstance(first, ContactSynced)
    assert (first.phone, first.name, first.action) == ("5511", "Maria (loja)", "add")
    assert normalize.for_account(ParsedWebhook(contacts=contacts), "other").contacts == ()


def test_previews_of_the_new_kinds() -> None:
    order = _message(MessageType.ORDER, text="Order: 1 item (1 unit), 10.00 BRL")
    assert preview(order) == "Order: 1 item (1 unit), 10.00 BRL"
    assert preview(_message(MessageType.ORDER)) == "🛒 Order"
