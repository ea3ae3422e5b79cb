"""Webhook bodies the way each provider sends them, for any message kind and status.

Shapes follow the same public sources as the parsers (see ``providers.<name>.parse``). The
driver signs and posts them; tests and fixtures use them directly.
"""

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from contracts.common import Provider
from simulator import media

KINDS = (
    "text",
    "image",
    "video",
    "audio",
    "voice",
    "document",
    "sticker",
    "location",
    "contacts",
    "reaction",
    "reaction_removed",
    "button_reply",
    "list_reply",
    "template_button",
    "unsupported",
)
VCARD = (
    "BEGIN:VCARD\nVERSION:3.0\nFN:Ana Souza\n"
    "TEL;type=CELL;waid=5511988887777:+55 11 98888-7777\nEND:VCARD"
)
_MEDIA_MIME = {
    "image": "image/jpeg",
    "video": "video/mp4",
    "audio": "audio/ogg",
    "voice": "audio/ogg",
    "document": "application/pdf",
    "sticker": "image/webp",
}


@dataclass(frozen=True)
class Customer:
    phone: str
    name: str = "Sim Customer"


@dataclass(frozen=True)
class InboundSpec:
    kind: str = "text"
    text: str = "hello from the simulator"
    reply_to: str | None = None  # provider message id being quoted / reacted to
    media_size: int = 2048
    message_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def new_message_id(provider: Provider) -> str:
    if provider is Provider.META:
        return "wamid.HBgN" + secrets.token_urlsafe(24).replace("-", "A").replace("_", "B") + "=="
    if provider is Provider.EVOLUTION:
        return "3EB0" + secrets.token_hex(8).upper()
    return "3EB0" + secrets.token_hex(10).upper()


def media_for(kind: str, size: int) -> str:
    return media.media_id(_MEDIA_MIME[kind], size, secrets.token_hex(6))


# --------------------------------------------------------------------------------------------
# Meta: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/


def meta_envelope(account: str, value: dict[str, Any]) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000000", "phone_number_id": account},
        **value,
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA-SIM", "changes": [{"field": "messages", "value": value}]}],
    }
    return orjson.dumps(body)


def meta_message(
    account: str, who: Customer, spec: InboundSpec, media_base: str
) -> tuple[str, bytes]:
    message_id = spec.message_id or new_message_id(Provider.META)
    msg: dict[str, Any] = {"from": who.phone, "id": message_id, "timestamp": str(int(time.time()))}
    kind = spec.kind
    if kind == "text":
        msg |= {"type": "text", "text": {"body": spec.text}}
    elif kind in _MEDIA_MIME:
        mid = media_for(kind, spec.media_size)
        wire = "audio" if kind == "voice" else kind
        obj: dict[str, Any] = {
            "id": mid,
            "mime_type": _MEDIA_MIME[kind],
            "sha256": media.expected_sha256(mid) if spec.media_size <= 1 << 20 else "0" * 64,
        }
        if kind in ("audio", "voice"):
            obj["voice"] = kind == "voice"
        if kind == "document":
            obj |= {"filename": f"{mid}.pdf", "caption": spec.text}
        if kind in ("image", "video"):
            obj["caption"] = spec.text
        if kind == "sticker":
            obj["animated"] = False
        msg |= {"type": wire, wire: obj}
    elif kind == "location":
        msg |= {
            "type": "location",
            "location": {
                "latitude": -23.5505,
                "longitude": -46.6333,
                "name": "Praça da Sé",
                "address": "São Paulo",
            },
        }
    elif kind == "contacts":
        msg |= {
            "type": "contacts",
            "contacts": [
                {
                    "name": {"formatted_name": "Ana Souza", "first_name": "Ana"},
                    "phones": [
                        {"phone": "+55 11 98888-7777", "wa_id": "5511988887777", "type": "CELL"}
                    ],
                }
            ],
        }
    elif kind in ("reaction", "reaction_removed"):
        reaction: dict[str, Any] = {"message_id": spec.reply_to or "wamid.unknown"}
        if kind == "reaction":
            reaction["emoji"] = "👍"
        msg |= {"type": "reaction", "reaction": reaction}
    elif kind == "button_reply":
        msg |= {
            "type": "interactive",
            "interactive": {"type": "button_reply", "button_reply": {"id": "yes", "title": "Yes"}},
        }
    elif kind == "list_reply":
        msg |= {
            "type": "interactive",
            "interactive": {
                "type": "list_reply",
                "list_reply": {"id": "row-1", "title": "Option 1", "description": "First"},
            },
        }
    elif kind == "template_button":
        msg |= {"type": "button", "button": {"payload": "STOP", "text": "Stop promotions"}}
    else:
        msg |= {
            "type": "unsupported",
            "errors": [
                {
                    "code": 131051,
                    "title": "Message type unknown",
                    "message": "Message type unknown",
                    "error_data": {"details": "Message type is currently not supported."},
                }
            ],
            "unsupported": {"type": "poll"},
        }
    if spec.reply_to and kind not in ("reaction", "reaction_removed"):
        msg["context"] = {"from": "15550000000", "id": spec.reply_to}
    contacts = [{"profile": {"name": who.name}, "wa_id": who.phone}]
    return message_id, meta_envelope(account, {"contacts": contacts, "messages": [msg]})


def meta_status(
    account: str, message_id: str, status: str, recipient: str, client_ref: str | None = None
) -> bytes:
    item: dict[str, Any] = {
        "id": message_id,
        "status": status,
        "timestamp": str(int(time.time())),
        "recipient_id": recipient,
    }
    if client_ref is not None:  # the send's biz_opaque_callback_data, echoed on every status
        item["biz_opaque_callback_data"] = client_ref
    if status == "failed":
        item["errors"] = [
            {
                "code": 131047,
                "title": "Re-engagement message",
                "message": "Re-engagement message",
                "error_data": {
                    "details": "Message failed to send because more than 24 hours have "
                    "passed since the customer last replied to this number."
                },
            }
        ]
    return meta_envelope(account, {"statuses": [item]})


# --------------------------------------------------------------------------------------------
# Evolution v2: https://doc.evolution-api.com/v2/en/configuration/webhooks and
# EvolutionAPI/evolution-api whatsapp.baileys.service.ts (messages.upsert / messages.update).


def evolution_envelope(account: str, event: str, data: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {
            "event": event,
            "instance": account,
            "data": data,
            "destination": "",
            "date_time": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "sender": "5511900000000@s.whatsapp.net",
            "server_url": "http://127.0.0.1",
            "apikey": None,
        }
    )


def evolution_message(
    account: str, who: Customer, spec: InboundSpec, media_base: str
) -> tuple[str, bytes]:
    key_id = spec.message_id or new_message_id(Provider.EVOLUTION)
    jid = f"{who.phone}@s.whatsapp.net"
    kind = spec.kind
    message: dict[str, Any]
    if kind == "text":
        message_type, message = "conversation", {"conversation": spec.text}
    elif kind in _MEDIA_MIME:
        mid = media_for(kind, spec.media_size)
        message_type = {"voice": "audioMessage", "audio": "audioMessage"}.get(
            kind, f"{kind}Message"
        )
        obj: dict[str, Any] = {
            "url": f"https://mmg.whatsapp.net/v/t62/{mid}.enc",
            "mimetype": _MEDIA_MIME[kind],
            "fileLength": str(spec.media_size),
            "mediaKey": "c2ltdWxhdG9y",
            "directPath": f"/v/t62/{mid}.enc",
        }
        if kind in ("audio", "voice"):
            obj |= {"ptt": kind == "voice", "seconds": 3}
        if kind == "document":
            obj |= {"fileName": f"{mid}.pdf", "caption": spec.text}
        if kind in ("image", "video"):
            obj["caption"] = spec.text
        message = {message_type: obj}
        key_id = spec.message_id or mid  # the media content is keyed by the message id
    elif kind == "location":
        message_type, message = (
            "locationMessage",
            {
                "locationMessage": {
                    "degreesLatitude": -23.5505,
                    "degreesLongitude": -46.6333,
                    "name": "Praça da Sé",
                    "address": "São Paulo",
                }
            },
        )
    elif kind == "contacts":
        vcard = VCARD
        message_type, message = (
            "contactMessage",
            {"contactMessage": {"displayName": "Ana Souza", "vcard": vcard}},
        )
    elif kind in ("reaction", "reaction_removed"):
        target = (spec.reply_to or "unknown").rpartition("/")[2]
        message_type = "reactionMessage"
        message = {
            "reactionMessage": {
                "key": {"remoteJid": jid, "fromMe": True, "id": target},
                "text": "👍" if kind == "reaction" else "",
                "senderTimestampMs": str(int(time.time() * 1000)),
            }
        }
    elif kind == "button_reply":
        message_type, message = (
            "buttonsResponseMessage",
            {"buttonsResponseMessage": {"selectedButtonId": "yes", "selectedDisplayText": "Yes"}},
        )
    elif kind == "list_reply":
        message_type, message = (
            "listResponseMessage",
            {
                "listResponseMessage": {
                    "title": "Option 1",
                    "description": "First",
                    "singleSelectReply": {"selectedRowId": "row-1"},
                }
            },
        )
    elif kind == "template_button":
        message_type, message = (
            "templateButtonReplyMessage",
            {
                "templateButtonReplyMessage": {
                    "selectedId": "STOP",
                    "selectedDisplayText": "Stop promotions",
                }
            },
        )
    else:
        message_type, message = (
            "pollCreationMessageV3",
            {"pollCreationMessageV3": {"name": "Lunch?", "options": [{"optionName": "Yes"}]}},
        )
    data: dict[str, Any] = {
        "key": {"remoteJid": jid, "fromMe": False, "id": key_id},
        "pushName": who.name,
        "status": "DELIVERY_ACK",
        "message": message,
        "messageType": message_type,
        "messageTimestamp": int(time.time()),
        "instanceId": "00000000-0000-4000-8000-000000000000",
        "source": "android",
    }
    if spec.reply_to and kind not in ("reaction", "reaction_removed"):
        data["contextInfo"] = {
            "stanzaId": spec.reply_to.rpartition("/")[2],
            "participant": "5511900000000@s.whatsapp.net",
            "quotedMessage": {"conversation": "earlier"},
        }
    return f"{jid}/{key_id}", evolution_envelope(account, "messages.upsert", data)


def evolution_status(account: str, message_id: str, status: str, recipient: str) -> bytes:
    jid, _, key_id = message_id.rpartition("/")
    wire = {
        "sent": "SERVER_ACK",
        "delivered": "DELIVERY_ACK",
        "read": "READ",
        "played": "PLAYED",
        "failed": "ERROR",
    }[status]
    data = {
        "keyId": key_id,
        "remoteJid": jid or f"{recipient}@s.whatsapp.net",
        "fromMe": True,
        "participant": None,
        "status": wire,
        "instanceId": "00000000-0000-4000-8000-000000000000",
        "messageId": "cm" + secrets.token_hex(10),
    }
    return evolution_envelope(account, "messages.update", data)


# --------------------------------------------------------------------------------------------
# Z-API: https://developer.z-api.io/en/webhooks/on-message-received and
# .../on-whatsapp-message-status-changes


def zapi_message(
    account: str, who: Customer, spec: InboundSpec, media_base: str
) -> tuple[str, bytes]:
    message_id = spec.message_id or new_message_id(Provider.ZAPI)
    body: dict[str, Any] = {
        "isStatusReply": False,
        "chatLid": None,
        "connectedPhone": "5511900000000",
        "waitingMessage": False,
        "isEdit": False,
        "isGroup": False,
        "isNewsletter": False,
        "instanceId": account,
        "messageId": message_id,
        "phone": who.phone,
        "fromMe": False,
        "momment": int(time.time() * 1000),
        "status": "RECEIVED",
        "chatName": who.name,
        "senderPhoto": None,
        "senderName": who.name,
        "photo": None,
        "broadcast": False,
        "forwarded": False,
        "type": "ReceivedCallback",
        "fromApi": False,
    }
    kind = spec.kind
    if kind == "text":
        body["text"] = {"message": spec.text}
    elif kind in _MEDIA_MIME:
        mid = media_for(kind, spec.media_size)
        wire = "audio" if kind == "voice" else kind
        url = f"{media_base}/_sim/media/{mid}"
        obj: dict[str, Any] = {f"{wire}Url": url, "mimeType": _MEDIA_MIME[kind]}
        if kind in ("audio", "voice"):
            obj |= {"ptt": kind == "voice", "seconds": 3}
        if kind == "document":
            obj |= {"fileName": f"{mid}.pdf", "title": mid, "pageCount": 1}
        if kind in ("image", "video"):
            obj |= {"caption": spec.text}
        body[wire] = obj
    elif kind == "location":
        body["location"] = {
            "latitude": -23.5505,
            "longitude": -46.6333,
            "name": "Praça da Sé",
            "address": "São Paulo",
            "url": "",
        }
    elif kind == "contacts":
        body["contact"] = {
            "displayName": "Ana Souza",
            "vCard": VCARD,
            "phones": ["5511988887777"],
        }
    elif kind in ("reaction", "reaction_removed"):
        body["reaction"] = {
            "value": "👍" if kind == "reaction" else "",
            "time": body["momment"],
            "reactionBy": who.phone,
            "referencedMessage": {
                "messageId": spec.reply_to or "unknown",
                "fromMe": True,
                "phone": who.phone,
                "participant": None,
            },
        }
    elif kind == "button_reply":
        body["buttonsResponseMessage"] = {"buttonId": "yes", "message": "Yes"}
    elif kind in ("list_reply", "template_button"):
        body["listResponseMessage"] = {
            "message": "Option 1",
            "title": "Option 1",
            "selectedRowId": "row-1",
        }
    else:
        body["poll"] = {"question": "Lunch?", "pollMaxOptions": 0, "options": [{"name": "Yes"}]}
    if spec.reply_to and kind not in ("reaction", "reaction_removed"):
        body["referenceMessageId"] = spec.reply_to
    return message_id, orjson.dumps(body)


def zapi_status(account: str, message_id: str, status: str, recipient: str) -> bytes:
    if status == "failed":
        # Z-API has no failed status; its on-message-send callback carries an ``error``.
        delivery = {
            "phone": recipient,
            "zaapId": secrets.token_hex(16).upper(),
            "messageId": message_id,
            "type": "DeliveryCallback",
            "instanceId": account,
            "error": "Message could not be sent",
        }
        return orjson.dumps(delivery)
    wire = {"sent": "SENT", "delivered": "RECEIVED", "read": "READ", "played": "PLAYED"}.get(
        status, "SENT"
    )
    return orjson.dumps(
        {
            "instanceId": account,
            "status": wire,
            "ids": [message_id],
            "momment": int(time.time() * 1000),
            "phoneDevice": 0,
            "phone": recipient,
            "type": "MessageStatusCallback",
            "isGroup": False,
        }
    )


def inbound(
    provider: Provider, account: str, who: Customer, spec: InboundSpec, media_base: str
) -> tuple[str, bytes]:
    """(provider message id as the parser reports it, body) of one customer message."""
    builder = {
        Provider.META: meta_message,
        Provider.EVOLUTION: evolution_message,
        Provider.ZAPI: zapi_message,
    }[provider]
    return builder(account, who, spec, media_base)


def status(
    provider: Provider,
    account: str,
    message_id: str,
    value: str,
    recipient: str,
    client_ref: str | None = None,
) -> bytes:
    """A status webhook; ``client_ref`` is Meta's ``biz_opaque_callback_data`` of the send."""
    if provider is Provider.META:
        return meta_status(account, message_id, value, recipient, client_ref)
    builder = {
        Provider.META: meta_status,
        Provider.EVOLUTION: evolution_status,
        Provider.ZAPI: zapi_status,
    }[provider]
    return builder(account, message_id, value, recipient)
