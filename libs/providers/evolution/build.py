"""Evolution API v2 requests, responses and error classification. Pure.

Paths and bodies: https://doc.evolution-api.com/v2/api-reference (sendText, sendMedia,
sendWhatsAppAudio, sendSticker, sendReaction, chat/markMessageAsRead,
chat/getBase64FromMediaMessage); auth header ``apikey``. Error envelope
``{status, error, response: {message}}`` from ``src/main.ts`` of EvolutionAPI/evolution-api.
Baileys has no templates (no 24-hour window), so template sends are refused as Permanent.
"""

from collections.abc import Mapping
from typing import Any

import orjson

from contracts.outbound import OutboundMedia, OutboundReaction, OutboundTemplate, OutboundText
from providers import fields as f
from providers.base import SendRequest, SendResult
from providers.call import Call, classify_http, no_message_id, unsure_send
from providers.errors import Permanent, ProviderFailure
from providers.evolution.ids import compose, split, to_jid


class EvolutionTarget:
    def __init__(self, credentials: Mapping[str, Any], base_url: str | None) -> None:
        base = base_url or credentials.get("base_url")
        if not base:
            raise ValueError("Evolution is self-hosted: base_url is required")
        self.base = str(base).rstrip("/")
        self.instance = str(credentials["instance"])
        self.headers = {"apikey": str(credentials["api_key"])}

    def url(self, group: str, action: str) -> str:
        return f"{self.base}/{group}/{action}/{self.instance}"


def send_call(target: EvolutionTarget, request: SendRequest) -> Call:
    content = request.content
    body: dict[str, Any] = {"number": request.to}
    if isinstance(content, OutboundText):
        body |= {"text": content.body, "linkPreview": content.preview_url}
        action = "sendText"
    elif isinstance(content, OutboundMedia):
        media = request.media.link if request.media else None
        if not media:
            raise Permanent("Evolution needs a media link (it has no upload-by-id)")
        if content.media_type == "audio":
            action, body["audio"] = "sendWhatsAppAudio", media
        elif content.media_type == "sticker":
            action, body["sticker"] = "sendSticker", media
        else:
            action = "sendMedia"
            body |= {"mediatype": content.media_type, "mimetype": content.mime, "media": media}
            if content.caption:
                body["caption"] = content.caption
            if content.filename:
                body["fileName"] = content.filename
    elif isinstance(content, OutboundReaction):
        jid, key_id = split(content.target_provider_message_id)
        body = {
            "key": {"remoteJid": jid or to_jid(request.to), "fromMe": False, "id": key_id},
            "reaction": content.emoji,
        }
        action = "sendReaction"
    elif isinstance(content, OutboundTemplate):
        raise Permanent("Evolution (WhatsApp Web) has no message templates; send text instead")
    if request.reply_to_provider_message_id and not isinstance(content, OutboundReaction):
        _, quoted = split(request.reply_to_provider_message_id)
        body["quoted"] = {"key": {"id": quoted}}
    return Call("POST", target.url("message", action), body, target.headers)


def mark_read_call(target: EvolutionTarget, chat_id: str, provider_message_id: str) -> Call:
    jid, key_id = split(provider_message_id)
    read = {"remoteJid": jid or to_jid(chat_id), "fromMe": False, "id": key_id}
    return Call(
        "POST", target.url("chat", "markMessageAsRead"), {"readMessages": [read]}, target.headers
    )


def media_call(target: EvolutionTarget, provider_ref: str) -> Call:
    jid, key_id = split(provider_ref)
    key: dict[str, Any] = {"id": key_id}
    if jid:
        key["remoteJid"] = jid
    body = {"message": {"key": key}, "convertToMp4": False}
    return Call("POST", target.url("chat", "getBase64FromMediaMessage"), body, target.headers)


def health_call(target: EvolutionTarget) -> Call:
    return Call("GET", target.url("instance", "connectionState"), None, target.headers)


def read_send_response(status: int, body: bytes, retry_after_s: float | None) -> SendResult:
    """The send's result; ``Ambiguous`` for a 2xx without ``key.id`` and for a 5xx without
    Evolution's error envelope (a proxy's answer: the message may have gone out)."""
    data = f.load_object(body)
    if status >= 400:
        own_error = data is not None and ("response" in data or "error" in data)
        unsure = unsure_send("Evolution", status, own_error=own_error)
        raise unsure or failure(status, body, retry_after_s)
    key = f.obj(data or {}, "key")
    jid, key_id = f.text(key, "remoteJid"), f.text(key, "id")
    if not jid or not key_id or data is None:
        raise no_message_id("Evolution", status)
    return SendResult(provider_message_id=compose(jid, key_id), raw=data)


def failure(status: int, body: bytes, retry_after_s: float | None) -> ProviderFailure:
    data = f.load_object(body) or {}
    message = f.obj(data, "response").get("message")
    if (
        isinstance(message, list)
        and message
        and isinstance(message[0], dict)
        and message[0].get("exists") is False
    ):
        return Permanent(
            f"{message[0].get('number', 'the number')} is not on WhatsApp",
            code="not_on_whatsapp",
            status=status,
        )
    detail = (
        message
        if isinstance(message, str)
        else orjson.dumps(message).decode()[:300]
        if message
        else ""
    )
    reason = f"Evolution answered HTTP {status}" + (f": {detail}" if detail else "")
    if status == 404:
        return Permanent(reason + " (unknown instance?)", status=status)
    return classify_http(status, reason, retry_after_s=retry_after_s)
