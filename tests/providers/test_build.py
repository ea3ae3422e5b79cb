"""Request shapes for every send kind, per provider (pure request building)."""

from typing import Any

import pytest

from contracts.outbound import OutboundMedia, OutboundReaction, OutboundTemplate, OutboundText
from providers.base import OutboundMediaSource, SendRequest
from providers.call import Call
from providers.errors import Permanent
from providers.evolution import build as evolution
from providers.meta import build as meta
from providers.zapi import build as zapi

META = meta.MetaTarget({"access_token": "T", "phone_number_id": "123", "api_version": "v23.0"})
EVO = evolution.EvolutionTarget({"api_key": "K", "instance": "acme"}, "http://evo:8080")
ZAPI = zapi.ZapiTarget({"instance_id": "IID", "token": "TOK", "client_token": "CT"}, None)
LINK = OutboundMediaSource(link="https://bucket.example/obj?sig=1")


def text(**kwargs: Any) -> SendRequest:
    return SendRequest(to="5511987654321", content=OutboundText(body="Olá"), **kwargs)


def media(kind: str, source: OutboundMediaSource = LINK, **extra: Any) -> SendRequest:
    content = OutboundMedia(media_type=kind, media_key="k", mime="application/pdf", **extra)  # type: ignore[arg-type]
    return SendRequest(to="5511987654321", content=content, media=source)


def test_meta_text_with_reply_context_and_callback_data() -> None:
    call = meta.send_call(
        META, text(reply_to_provider_message_id="wamid.Q", client_message_id="c1")
    )
    assert call.url == "https://graph.facebook.com/v23.0/123/messages"
    assert call.headers["Authorization"] == "Bearer T"
    assert call.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "5511987654321",
        "type": "text",
        "text": {"body": "Olá", "preview_url": False},
        "context": {"message_id": "wamid.Q"},
        "biz_opaque_callback_data": "c1",
    }


def test_meta_media_by_link_and_by_uploaded_id() -> None:
    by_link = meta.send_call(META, media("document", filename="a.pdf", caption="c")).json
    assert by_link["document"] == {"link": LINK.link, "caption": "c", "filename": "a.pdf"}
    by_id = meta.send_call(META, media("image", OutboundMediaSource(provider_media_id="M1"))).json
    assert by_id["type"] == "image" and by_id["image"] == {"id": "M1"}
    audio = meta.send_call(META, media("audio", caption="ignored")).json
    assert audio["audio"] == {"link": LINK.link}


def test_meta_template_reaction_and_mark_read() -> None:
    template = OutboundTemplate(name="order_update", language="pt_BR", body_params=("Ana", "42"))
    body = meta.send_call(META, SendRequest(to="1", content=template)).json
    assert body["template"] == {
        "name": "order_update",
        "language": {"code": "pt_BR"},
        "components": [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "42"}],
            }
        ],
    }
    reaction = OutboundReaction(target_provider_message_id="wamid.X", emoji="")
    body = meta.send_call(META, SendRequest(to="1", content=reaction)).json
    assert body["reaction"] == {"message_id": "wamid.X", "emoji": ""}
    read = meta.mark_read_call(META, "wamid.IN")
    assert read.json == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.IN",
    }


def test_meta_media_info_is_step_one_of_the_download() -> None:
    call = meta.media_info_call(META, "987")
    assert (call.method, call.url) == ("GET", "https://graph.facebook.com/v23.0/987")
    assert call.params == {"phone_number_id": "123"}


def test_evolution_shapes() -> None:
    call = evolution.send_call(EVO, text(reply_to_provider_message_id="5511@s.whatsapp.net/BAE5"))
    assert call.url == "http://evo:8080/message/sendText/acme" and call.headers == {"apikey": "K"}
    assert call.json == {
        "number": "5511987654321",
        "text": "Olá",
        "linkPreview": False,
        "quoted": {"key": {"id": "BAE5"}},
    }
    doc = evolution.send_call(EVO, media("document", filename="a.pdf", caption="c"))
    assert doc.url.endswith("/message/sendMedia/acme")
    assert doc.json == {
        "number": "5511987654321",
        "mediatype": "document",
        "mimetype": "application/pdf",
        "media": LINK.link,
        "caption": "c",
        "fileName": "a.pdf",
    }
    assert evolution.send_call(EVO, media("audio")).url.endswith("/message/sendWhatsAppAudio/acme")
    reaction = OutboundReaction(target_provider_message_id="5511@s.whatsapp.net/BAE5", emoji="👍")
    call = evolution.send_call(EVO, SendRequest(to="5511", content=reaction))
    assert call.json == {
        "key": {"remoteJid": "5511@s.whatsapp.net", "fromMe": False, "id": "BAE5"},
        "reaction": "👍",
    }
    read = evolution.mark_read_call(EVO, "5511", "5511@s.whatsapp.net/3EB0")
    assert read.json == {
        "readMessages": [{"remoteJid": "5511@s.whatsapp.net", "fromMe": False, "id": "3EB0"}]
    }


def test_zapi_shapes() -> None:
    call = zapi.send_call(ZAPI, text(reply_to_provider_message_id="3EB0Q"))
    assert call.url == "https://api.z-api.io/instances/IID/token/TOK/send-text"
    assert call.headers == {"Client-Token": "CT"}
    assert call.json == {"phone": "5511987654321", "message": "Olá", "messageId": "3EB0Q"}
    doc = zapi.send_call(ZAPI, media("document", filename="report.pdf"))
    assert doc.url.endswith("/send-document/pdf")
    assert doc.json == {"phone": "5511987654321", "document": LINK.link, "fileName": "report.pdf"}
    image = zapi.send_call(ZAPI, media("image", caption="c"))
    assert image.url.endswith("/send-image") and image.json["image"] == LINK.link
    remove = OutboundReaction(target_provider_message_id="3EB0X", emoji="")
    assert zapi.send_call(ZAPI, SendRequest(to="1", content=remove)).url.endswith(
        "/send-remove-reaction"
    )
    read = zapi.mark_read_call(ZAPI, "5511", "3EB0X")
    assert read.json == {"phone": "5511", "messageId": "3EB0X"}


@pytest.mark.parametrize(
    "build_call",
    [
        lambda r: evolution.send_call(EVO, r),
        lambda r: zapi.send_call(ZAPI, r),
    ],
)
def test_templates_and_uploaded_ids_are_refused_where_unsupported(build_call: Any) -> None:
    with pytest.raises(Permanent):
        build_call(SendRequest(to="1", content=OutboundTemplate(name="t")))
    with pytest.raises(Permanent):
        build_call(media("image", OutboundMediaSource(provider_media_id="M")))


def test_calls_are_plain_data() -> None:
    assert isinstance(meta.health_call(META), Call)
