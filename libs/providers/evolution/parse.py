"""Evolution webhook bodies → ``ParsedWebhook``. Pure; never raises.

Envelope ``{event, instance, data, ...}`` and the ``messages.upsert`` / ``send.message`` /
``messages.update`` shapes (edits and deletions: ``amend``) follow EvolutionAPI/evolution-api v2.3
(https://github.com/EvolutionAPI/evolution-api, ``whatsapp.baileys.service.ts``,
``utils/renderStatus.ts``) and https://doc.evolution-api.com/v2/en/configuration/webhooks.

Deliberate choices: group (``@g.us``) messages are parsed as group chats, their writer in
``key.participant`` (whether they are kept is the integration's ``group_messages`` setting,
applied by ingest-api); broadcast and status chats are ignored with a reason;
``key.fromMe`` messages are kept as ``direction="outbound_echo"``; the account ref is the
``instance`` name.
"""

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from contracts.inbound import (
    Chat,
    ContactCard,
    InboundMessage,
    Location,
    MediaRef,
    MessageType,
    ProviderError,
    Reaction,
    ReplyChoice,
    Sender,
)
from contracts.status import MessageStatus
from providers import fields as f
from providers import referral, templates
from providers.base import ParsedMessage, ParsedStatus, ParsedWebhook, Rejection
from providers.evolution import amend
from providers.evolution.ids import compose

_STATUSES = {
    "SERVER_ACK": MessageStatus.SENT,
    "DELIVERY_ACK": MessageStatus.DELIVERED,
    "READ": MessageStatus.READ,
    "PLAYED": MessageStatus.PLAYED,
    "ERROR": MessageStatus.FAILED,
}
_MEDIA = {
    "imageMessage": MessageType.IMAGE,
    "videoMessage": MessageType.VIDEO,
    "ptvMessage": MessageType.VIDEO,
    "audioMessage": MessageType.AUDIO,
    "documentMessage": MessageType.DOCUMENT,
    "documentWithCaptionMessage": MessageType.DOCUMENT,
    "stickerMessage": MessageType.STICKER,
}
# Evolution reports ERROR without a reason (utils/renderStatus.ts).
_ERROR = ProviderError(code="ERROR", title="WhatsApp reported the message as failed")
_MESSAGE_EVENTS = {"messages.upsert", "send.message"}


def parse(body: bytes) -> ParsedWebhook | Rejection:
    try:
        return _parse(body)
    except (ValidationError, ValueError, TypeError, KeyError, AttributeError) as exc:
        return Rejection(f"unusable Evolution payload: {type(exc).__name__}", status=400)


def _parse(body: bytes) -> ParsedWebhook | Rejection:
    root = f.load_object(body)
    if root is None:
        return Rejection("body is not a JSON object", status=400)
    event = (f.text(root, "event") or "").lower().replace("_", ".")
    instance = f.text(root, "instance")
    if not event or not instance:
        return Rejection("missing event or instance", status=400)
    data = f.obj(root, "data")
    if event in _MESSAGE_EVENTS:
        message = _message(data)
        if isinstance(message, str):
            return ParsedWebhook(ignored=(message,))
        return ParsedWebhook(messages=(ParsedMessage(instance, message),))
    if event in ("messages.edited", "messages.delete"):
        changed = amend.event_message(event, data, root)
        if isinstance(changed, str):
            return ParsedWebhook(ignored=(changed,))
        return ParsedWebhook(messages=(ParsedMessage(instance, changed),))
    if event == "messages.update":
        status = _status(data, instance)
        if isinstance(status, str):
            return ParsedWebhook(ignored=(status,))
        return ParsedWebhook(statuses=(status,))
    return ParsedWebhook(ignored=(f"event {event!r} is not handled",))


def _chat_kind(jid: str) -> str | None:
    if jid.endswith("@broadcast") or jid.endswith("@newsletter"):
        return "broadcast, status and newsletter chats are not handled"
    return None


def _message(data: dict[str, Any]) -> InboundMessage | str:
    key = f.obj(data, "key")
    jid, key_id = f.text(key, "remoteJid"), f.text(key, "id")
    sent_at = f.epoch(f.number(data, "messageTimestamp"))
    if not jid or not key_id or sent_at is None:
        return "message without key.remoteJid, key.id or messageTimestamp"
    skip = _chat_kind(jid)
    if skip:
        return skip
    from_me = f.flag(key, "fromMe")
    group = jid.endswith("@g.us")
    # In a group the writer is ``participant`` (its phone JID maybe in ``participantAlt``).
    writers = (
        (f.text(key, "participant"), f.text(key, "participantAlt"))
        if group
        else (jid, f.text(key, "senderLid"))
    )
    # LID addressing: the phone JID may only be in remoteJidAlt / senderPn.
    phone_jid = next(
        (
            j
            for j in (*writers, f.text(key, "remoteJidAlt"), f.text(key, "senderPn"))
            if j and j.endswith("@s.whatsapp.net")
        ),
        None,
    )
    lid = next((j for j in writers if j and j.endswith("@lid")), None)
    content = f.obj(data, "message")
    kind = f.text(data, "messageType") or next(iter(content), "unknown")
    context = f.obj(data, "contextInfo") or f.obj(f.obj(content, kind), "contextInfo")
    fields: dict[str, Any] = {
        "provider_message_id": compose(jid, key_id),
        "chat": Chat(kind="group", id=jid) if group else Chat(id=jid),
        "sender": Sender(
            phone=f.digits(phone_jid),
            wa_id=f.digits(phone_jid),
            lid=f.digits(lid),
            display_name=None if from_me else f.text(data, "pushName"),
        ),
        "from_me": from_me,
        "direction": "outbound_echo" if from_me else "inbound",
        "sent_at": sent_at,
        "reply_to_provider_message_id": (
            compose(jid, f.text(context, "stanzaId") or "") if f.text(context, "stanzaId") else None
        ),
        "forwarded": f.flag(context, "isForwarded"),
        "referral": referral.external_ad(context),
    }
    if kind in amend.PROTOCOL_KINDS:
        changed = amend.change(amend.protocol_of(content), jid)
        if isinstance(changed, str):
            return changed
        fields.update(changed)
    else:
        fields.update(_content(kind, content, jid, key_id))
    return InboundMessage(**fields)


def _content(kind: str, content: dict[str, Any], jid: str, key_id: str) -> dict[str, Any]:
    payload = f.obj(content, kind)
    if kind == "conversation" and f.text(content, "conversation") is not None:
        return {"type": MessageType.TEXT, "text": f.text(content, "conversation")}
    if kind == "extendedTextMessage" and f.text(payload, "text") is not None:
        return {"type": MessageType.TEXT, "text": f.text(payload, "text")}
    if kind in _MEDIA:
        if kind == "documentWithCaptionMessage":
            payload = f.obj(f.obj(payload, "message"), "documentMessage")
        media_type = _MEDIA[kind]
        if kind == "audioMessage" and f.flag(payload, "ptt"):
            media_type = MessageType.VOICE
        size = f.number(payload, "fileLength")
        media = MediaRef(
            # getBase64FromMediaMessage needs the message key: the composed id carries it.
            provider_ref=compose(jid, key_id),
            mime=f.text(payload, "mimetype"),
            size=int(size) if size is not None and 0 <= size < 2**53 else None,
            filename=f.text(payload, "fileName"),
            url=f.text(content, "mediaUrl"),
            animated=payload.get("isAnimated")
            if isinstance(payload.get("isAnimated"), bool)
            else None,
        )
        return {"type": media_type, "media": media, "caption": f.text(payload, "caption")}
    if kind in ("locationMessage", "liveLocationMessage"):
        lat, lng = f.number(payload, "degreesLatitude"), f.number(payload, "degreesLongitude")
        if lat is not None and lng is not None:
            location = Location(
                latitude=lat,
                longitude=lng,
                name=f.text(payload, "name"),
                address=f.text(payload, "address"),
            )
            return {"type": MessageType.LOCATION, "location": location}
    if kind == "contactMessage":
        return {"type": MessageType.CONTACTS, "contacts": (_card(payload),)}
    if kind == "contactsArrayMessage":
        cards = tuple(_card(c) for c in f.arr(payload, "contacts"))
        return {"type": MessageType.CONTACTS, "contacts": cards}
    if kind == "reactionMessage":
        target = f.obj(payload, "key")
        target_id = f.text(target, "id")
        if target_id:
            reaction = Reaction(
                target_provider_message_id=compose(f.text(target, "remoteJid") or jid, target_id),
                emoji=f.text(payload, "text") or None,
            )
            return {"type": MessageType.REACTION, "reaction": reaction}
    choice = _choice(kind, payload)
    if choice is not None:
        return choice
    return {
        "type": MessageType.UNSUPPORTED,
        "unsupported_reason": f"message type {kind!r} is not supported",
    }


def _choice(kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
    if kind == "buttonsResponseMessage":
        title = f.text(payload, "selectedDisplayText")
        if title:
            reply = ReplyChoice(kind="button", id=f.text(payload, "selectedButtonId"), title=title)
            return {"type": MessageType.INTERACTIVE_REPLY, "reply": reply}
    if kind == "listResponseMessage":
        title = f.text(payload, "title")
        if title:
            reply = ReplyChoice(
                kind="list",
                id=f.text(f.obj(payload, "singleSelectReply"), "selectedRowId"),
                title=title,
                description=f.text(payload, "description"),
            )
            return {"type": MessageType.INTERACTIVE_REPLY, "reply": reply}
    if kind == "templateMessage":
        # WAProto TemplateMessage.HydratedFourRowTemplate: a template a business sent here.
        hydrated = f.obj(payload, "hydratedTemplate")
        text = templates.render(
            title=f.text(hydrated, "hydratedTitleText"),
            body=f.text(hydrated, "hydratedContentText"),
            footer=f.text(hydrated, "hydratedFooterText"),
            buttons=[
                f.text(v, "displayText") or ""
                for b in f.arr(hydrated, "hydratedButtons")
                if isinstance(b, dict)
                for v in b.values()
                if isinstance(v, dict)
            ],
        )
        if text is not None:
            return {"type": MessageType.TEMPLATE, "text": text}
    if kind == "templateButtonReplyMessage":
        title = f.text(payload, "selectedDisplayText")
        if title:
            reply = ReplyChoice(
                kind="template_button", id=f.text(payload, "selectedId"), title=title
            )
            return {"type": MessageType.BUTTON_REPLY, "reply": reply}
    return None


def _card(payload: Any) -> ContactCard:
    vcard = f.text(payload, "vcard") or ""
    phones = tuple(
        line.rsplit(":", 1)[1].strip()
        for line in vcard.splitlines()
        if line.upper().startswith("TEL") and ":" in line
    )
    return ContactCard(name=f.text(payload, "displayName") or "", phones=phones)


def _status(data: dict[str, Any], instance: str) -> ParsedStatus | str:
    jid = f.text(data, "remoteJid")
    key_id = f.text(data, "keyId")
    status_raw = f.text(data, "status")
    if not jid or not key_id:
        return "messages.update without remoteJid or keyId"
    if data.get("fromMe") is False:
        return "status of an inbound message is not tracked"
    status = _STATUSES.get(status_raw or "")
    if status is None:
        return f"status {status_raw!r} is not tracked (edits and deletions arrive as DELETED)"
    # v2 updates carry no provider timestamp of their own (``datetime`` was v1, ms).
    reported_at = (
        f.epoch((f.number(data, "datetime") or 0) / 1000) if f.number(data, "datetime") else None
    )
    return ParsedStatus(
        account_ref=instance,
        provider_message_ids=(compose(jid, key_id),),
        status=status,
        reported_at=reported_at or datetime.now(UTC),
        recipient=f.digits(jid),
        error=_ERROR if status is MessageStatus.FAILED else None,
        provider_status_raw=status_raw,
    )
