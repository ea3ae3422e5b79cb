"""The simulator posts every issue #19 kind the way its provider does: each body parses into
what the provider's own payload would (pure: no server)."""

import pytest

from contracts import MessageType, Provider
from providers.base import ParsedWebhook
from providers.registry import codec
from simulator import business
from simulator.webhooks import Customer, InboundSpec

WHO = Customer("5511987654321", "Maria Silva")
CASES = [(p, k) for p in Provider for k in business.KINDS if business.supported(p, k)]


def _parse(provider: Provider, kind: str, text: str = "hello") -> tuple[str, ParsedWebhook]:
    message_id, body = business.post_body(provider, "acct", WHO, InboundSpec(kind=kind, text=text))
    parsed = codec(provider).parse(body)
    assert isinstance(parsed, ParsedWebhook), parsed
    assert not parsed.ignored and parsed.account_refs == {"acct"}
    return message_id, parsed


@pytest.mark.parametrize(("provider", "kind"), CASES)
def test_every_kind_parses_into_its_event(provider: Provider, kind: str) -> None:
    message_id, parsed = _parse(provider, kind, "5511912345678" if kind == "system" else "hi")
    if kind.startswith("contact"):
        (contact,) = parsed.contacts
        assert contact.phone == WHO.phone
        assert (contact.action, contact.name) == (
            ("add", WHO.name) if kind == "contact_sync" else ("remove", None)
        )
        return
    (item,) = parsed.messages
    message = item.message
    assert message.provider_message_id == message_id
    expected = {
        "system": MessageType.SYSTEM,
        "order": MessageType.ORDER,
        "template": MessageType.TEMPLATE,
    }
    assert message.type is expected.get(kind, MessageType.TEXT)
    assert (message.direction == "outbound_echo") is (kind == "phone_echo")
    assert (message.chat.kind == "group") is (kind == "group")


def test_unsupported_combinations_are_refused() -> None:
    assert not business.supported(Provider.EVOLUTION, "order")
    assert not business.supported(Provider.META, "template")
    with pytest.raises(ValueError, match="posts no"):
        business.post_body(Provider.EVOLUTION, "acct", WHO, InboundSpec(kind="system"))
