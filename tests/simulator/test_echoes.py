"""The simulator's fromMe echoes read, through the providers' own parsers, as the message the
adapter sent: same provider id, same text or caption and kind, marked as the business's own."""

import pytest

from contracts import MessageType, Provider
from providers.base import ParsedWebhook
from providers.evolution.parse import parse as parse_evolution
from providers.zapi.parse import parse as parse_zapi
from simulator.echoes import echo


@pytest.mark.parametrize(
    ("provider", "action", "body", "kind", "text", "caption"),
    [
        (Provider.EVOLUTION, "sendText", {"number": "5511", "text": "hi"}, "text", "hi", None),
        (
            Provider.EVOLUTION,
            "sendMedia",
            {"number": "5511", "mediatype": "image", "media": "https://x/i.jpg", "caption": "c"},
            "image",
            None,
            "c",
        ),
        (Provider.ZAPI, "send-text", {"phone": "5511", "message": "hi"}, "text", "hi", None),
        (
            Provider.ZAPI,
            "send-document/pdf",
            {"phone": "5511", "document": "https://x/d.pdf", "caption": "c"},
            "document",
            None,
            "c",
        ),
    ],
)
def test_an_echo_is_the_message_sent(
    provider: Provider,
    action: str,
    body: dict[str, str],
    kind: str,
    text: str | None,
    caption: str | None,
) -> None:
    provider_id = "5511@s.whatsapp.net/BAE5AA" if provider is Provider.EVOLUTION else "3EB0AA"
    raw = echo(provider, "acct", provider_id, action, body)
    assert raw is not None
    parse = parse_evolution if provider is Provider.EVOLUTION else parse_zapi
    parsed = parse(raw)
    assert isinstance(parsed, ParsedWebhook), parsed
    (message,) = [m.message for m in parsed.messages]
    assert message.provider_message_id == provider_id
    assert (message.from_me, message.direction) == (True, "outbound_echo")
    assert (message.type, message.text, message.caption) == (MessageType(kind), text, caption)


def test_meta_has_no_echo() -> None:
    assert echo(Provider.META, "acct", "wamid.X", "text", {"to": "5511"}) is None
