"""The provider's echo of a message the business sent through the API.

Evolution posts a ``messages.upsert`` with ``key.fromMe = true`` for the business's own
messages, those sent through the API included (doc.evolution-api.com/v2, webhooks;
EvolutionAPI/evolution-api whatsapp.baileys.service.ts); Z-API posts its on-message-received
callback with ``fromMe: true, fromApi: true`` when "notify sent by me" is on
(developer.z-api.io/en/webhooks/on-message-received). Meta's Cloud API echoes nothing for API
sends: its status webhooks carry ``biz_opaque_callback_data`` instead (see ``webhooks``).

Bodies are built from the send request as the simulator received it, so the echo carries the
same text or caption, kind and id as the message the adapter sent.
"""

import secrets
import time
from typing import Any

import orjson

from contracts.common import Provider
from simulator.webhooks import evolution_envelope

_EVOLUTION_MEDIA = {
    "image": "imageMessage",
    "video": "videoMessage",
    "document": "documentMessage",
    "audio": "audioMessage",
    "sticker": "stickerMessage",
}


def _evolution_message(action: str, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if action == "sendText":
        return "conversation", {"conversation": str(body.get("text", ""))}
    if action == "sendWhatsAppAudio":
        return "audioMessage", {"audioMessage": {"url": body.get("audio"), "ptt": True}}
    if action == "sendSticker":
        return "stickerMessage", {"stickerMessage": {"url": body.get("sticker")}}
    kind = _EVOLUTION_MEDIA.get(str(body.get("mediatype", "")), "documentMessage")
    media: dict[str, Any] = {"url": body.get("media"), "mimetype": body.get("mimetype")}
    if body.get("caption"):
        media["caption"] = body["caption"]
    if body.get("fileName"):
        media["fileName"] = body["fileName"]
    return kind, {kind: media}


def evolution_echo(account: str, provider_message_id: str, action: str, body: Any) -> bytes:
    jid, _, key_id = provider_message_id.rpartition("/")
    message_type, message = _evolution_message(action, body if isinstance(body, dict) else {})
    data = {
        "key": {"remoteJid": jid, "fromMe": True, "id": key_id},
        "pushName": "",
        "status": "SERVER_ACK",
        "message": message,
        "messageType": message_type,
        "messageTimestamp": int(time.time()),
        "instanceId": "00000000-0000-4000-8000-000000000000",
        "source": "unknown",
    }
    return evolution_envelope(account, "messages.upsert", data)


def zapi_echo(account: str, message_id: str, endpoint: str, body: Any) -> bytes:
    request = body if isinstance(body, dict) else {}
    echo: dict[str, Any] = {
        "isStatusReply": False,
        "isEdit": False,
        "isGroup": False,
        "isNewsletter": False,
        "instanceId": account,
        "messageId": message_id,
        "phone": str(request.get("phone", "")),
        "fromMe": True,
        "fromApi": True,
        "momment": int(time.time() * 1000),
        "status": "SENT",
        "broadcast": False,
        "forwarded": False,
        "waitingMessage": False,
        "type": "ReceivedCallback",
        "zaapId": secrets.token_hex(16).upper(),
    }
    kind = endpoint.removeprefix("send-").split("/")[0]
    if kind == "text":
        echo["text"] = {"message": str(request.get("message", ""))}
    elif kind in ("image", "video", "audio", "document", "sticker"):
        media: dict[str, Any] = {f"{kind}Url": request.get(kind)}
        if request.get("caption"):
            media["caption"] = request["caption"]
        if request.get("fileName"):
            media["fileName"] = request["fileName"]
        echo[kind] = media
    return orjson.dumps(echo)


def echo(
    provider: Provider, account: str, provider_message_id: str, action: str, body: Any
) -> bytes | None:
    """The ``fromMe`` webhook of an accepted send; None for Meta (it has none)."""
    if provider is Provider.EVOLUTION:
        return evolution_echo(account, provider_message_id, action, body)
    if provider is Provider.ZAPI:
        return zapi_echo(account, provider_message_id, action, body)
    return None
