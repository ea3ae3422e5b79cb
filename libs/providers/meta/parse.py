"""Meta webhook bodies → ``ParsedWebhook``. Pure; never raises.

Envelope and per-type shapes:
https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/
(text, image, video, audio, document, sticker, location, contacts, reaction, interactive, button,
unsupported; ``edit`` and ``revoke``, a user's edit or delete-for-everyone of an earlier message)
and .../messages/status for ``statuses[]``. Every ``entry[]``/``changes[]``/``messages[]``/
``statuses[]`` is iterated: Meta batches up to 1000 updates per POST.
"""

from typing import Any

import orjson
from pydantic import ValidationError

from contracts.inbound import (
    Chat,
    ContactCard,
    Edit,
    InboundMessage,
    Location,
    MediaRef,
    MessageType,
    ProviderError,
    Reaction,
    ReplyChoice,
    Revoke,
    Sender,
)
from contracts.status import MessageStatus
from providers import fields as f
from providers import referral
from providers.base import ParsedMessage, ParsedStatus, ParsedWebhook, Rejection
from providers.meta.build import classify_code

_STATUSES = {
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.READ,
    "played": MessageStatus.PLAYED,
    "failed": MessageStatus.FAILED,
}
_MEDIA = {
    "image": MessageType.IMAGE,
    "video": MessageType.VIDEO,
    "audio": MessageType.AUDIO,
    "document": MessageType.DOCUMENT,
    "sticker": MessageType.STICKER,
}


def parse(body: bytes) -> ParsedWebhook | Rejection:
    try:
        return _parse(body)
    except (ValidationError, ValueError, TypeError, KeyError, AttributeError) as exc:
        # Contract validation of an odd-but-JSON payload; typed, never a 500.
        return Rejection(f"unusable Meta payload: {type(exc).__name__}", status=400)


def _parse(body: bytes) -> ParsedWebhook | Rejection:
    root = f.load_object(body)
    if root is None:
        return Rejection("body is not a JSON object", status=400)
    if root.get("object") != "whatsapp_business_account":
        return Rejection("object is not whatsapp_business_account", status=400)
    messages: list[ParsedMessage] = []
    statuses: list[ParsedStatus] = []
    ignored: list[str] = []
    named: set[str] = set()
    for entry in f.arr(root, "entry"):
        for change in f.arr(entry, "changes"):
            field = f.text(change, "field")
            value = f.obj(change, "value")
            account = f.text(f.obj(value, "metadata"), "phone_number_id")
            if account is not None:
                named.add(account)
            if field != "messages":
                ignored.append(f"field {field!r} is not handled")
                continue
            if account is None:
                ignored.append("change without metadata.phone_number_id")
                continue
            names = _contact_names(value)
            for raw in f.arr(value, "messages"):
                parsed = _message(raw, names)
                if isinstance(parsed, str):
                    ignored.append(parsed)
                else:
                    messages.append(ParsedMessage(account, parsed))
            for raw in f.arr(value, "statuses"):
                status = _status(raw, account)
                if isinstance(status, str):
                    ignored.append(status)
                else:
                    statuses.append(status)
            for err in f.arr(value, "errors"):
                ignored.append(f"webhook error {f.text(err, 'code')}: {f.text(err, 'title')}")
    return ParsedWebhook(tuple(messages), tuple(statuses), tuple(ignored), frozenset(named))


def _contact_names(value: dict[str, Any]) -> dict[str, str]:
    names: dict[str, str] = {}
    for contact in f.arr(value, "contacts"):
        wa_id = f.text(contact, "wa_id") or f.text(contact, "user_id")
        name = f.text(f.obj(contact, "profile"), "name")
        if wa_id and name:
            names[wa_id] = name
    return names


def _message(raw: Any, names: dict[str, str]) -> InboundMessage | str:
    message_id = f.text(raw, "id")
    sender_phone = f.text(raw, "from")
    sender_id = sender_phone or f.text(raw, "from_user_id")
    sent_at = f.epoch(f.number(raw, "timestamp"))
    if not message_id or not sender_id or sent_at is None:
        return "message without id, sender or timestamp"
    kind = f.text(raw, "type") or "unknown"
    context = f.obj(raw, "context")
    group_id = f.text(raw, "group_id")
    fields: dict[str, Any] = {
        "provider_message_id": message_id,
        "chat": Chat(kind="group", id=group_id) if group_id else Chat(id=sender_id),
        "sender": Sender(
            phone=sender_phone,
            wa_id=sender_phone,
            display_name=names.get(sender_id),
        ),
        "sent_at": sent_at,
        "reply_to_provider_message_id": f.text(context, "id"),
        "forwarded": f.flag(context, "forwarded") or f.flag(context, "frequently_forwarded"),
        "referral": referral.meta(raw),
    }
    fields.update(_content(kind, raw))
    return InboundMessage(**fields)


def _content(kind: str, raw: Any) -> dict[str, Any]:
    payload = f.obj(raw, kind)
    if kind == "text":
        body = f.text(payload, "body")
        if body is not None:
            return {"type": MessageType.TEXT, "text": body}
    elif kind in _MEDIA and f.text(payload, "id"):
        media_type = _MEDIA[kind]
        if kind == "audio" and f.flag(payload, "voice"):
            media_type = MessageType.VOICE
        media = MediaRef(
            provider_ref=f.text(payload, "id") or "",
            mime=f.text(payload, "mime_type"),
            sha256=f.text(payload, "sha256"),
            filename=f.text(payload, "filename"),
            url=f.text(payload, "url"),
            animated=payload.get("animated") if isinstance(payload.get("animated"), bool) else None,
        )
        return {"type": media_type, "media": media, "caption": f.text(payload, "caption")}
    elif kind == "location":
        lat, lng = f.number(payload, "latitude"), f.number(payload, "longitude")
        if lat is not None and lng is not None:
            location = Location(
                latitude=lat,
                longitude=lng,
                name=f.text(payload, "name"),
                address=f.text(payload, "address"),
            )
            return {"type": MessageType.LOCATION, "location": location}
    elif kind == "contacts":
        cards = tuple(_card(c) for c in f.arr(raw, "contacts"))
        return {"type": MessageType.CONTACTS, "contacts": cards}
    elif kind == "reaction" and f.text(payload, "message_id"):
        # Removal arrives with ``emoji`` empty or absent (both observed).
        emoji = f.text(payload, "emoji") or None
        reaction = Reaction(
            target_provider_message_id=f.text(payload, "message_id") or "", emoji=emoji
        )
        return {"type": MessageType.REACTION, "reaction": reaction}
    elif kind == "edit" and f.text(payload, "original_message_id"):
        new_text = _edited_text(f.obj(payload, "message"))
        if new_text is not None:
            edit = Edit(
                target_provider_message_id=f.text(payload, "original_message_id") or "",
                text=new_text,
            )
            return {"type": MessageType.EDIT, "edit": edit}
    elif kind == "revoke" and f.text(payload, "original_message_id"):
        revoke = Revoke(target_provider_message_id=f.text(payload, "original_message_id") or "")
        return {"type": MessageType.REVOKE, "revoke": revoke}
    elif kind == "interactive":
        choice = _interactive(payload)
        if choice is not None:
            return {"type": MessageType.INTERACTIVE_REPLY, "reply": choice}
    elif kind == "button":
        title = f.text(payload, "text")
        if title is not None:
            choice = ReplyChoice(kind="template_button", id=f.text(payload, "payload"), title=title)
            return {"type": MessageType.BUTTON_REPLY, "reply": choice}
    return {"type": MessageType.UNSUPPORTED, "unsupported_reason": _unsupported_reason(kind, raw)}


def _edited_text(message: dict[str, Any]) -> str | None:
    """The new text of an edit's ``message`` (a message object of its own type): a text's body
    or a media message's caption, the only parts WhatsApp lets a user edit."""
    kind = f.text(message, "type") or ""
    content = f.obj(message, kind)
    if kind == "text":
        return f.text(content, "body")
    return f.text(content, "caption") if kind in _MEDIA else None


def _card(raw: Any) -> ContactCard:
    name = f.text(f.obj(raw, "name"), "formatted_name") or f.text(f.obj(raw, "name"), "first_name")
    phones = tuple(
        p for p in (f.text(x, "phone") or f.text(x, "wa_id") for x in f.arr(raw, "phones")) if p
    )
    return ContactCard(name=name or "", phones=phones)


def _interactive(payload: dict[str, Any]) -> ReplyChoice | None:
    kind = f.text(payload, "type")
    if kind == "button_reply":
        reply = f.obj(payload, "button_reply")
        title = f.text(reply, "title")
        return ReplyChoice(kind="button", id=f.text(reply, "id"), title=title) if title else None
    if kind == "list_reply":
        reply = f.obj(payload, "list_reply")
        title = f.text(reply, "title")
        if not title:
            return None
        return ReplyChoice(
            kind="list",
            id=f.text(reply, "id"),
            title=title,
            description=f.text(reply, "description"),
        )
    if kind == "nfm_reply":
        reply = f.obj(payload, "nfm_reply")
        return ReplyChoice(
            kind="flow", id=f.text(reply, "name"), title=f.text(reply, "body") or "flow"
        )
    return None


def _unsupported_reason(kind: str, raw: Any) -> str:
    """Meta's own words when the message carries ``errors`` (agents read it), else ours."""
    errors = f.arr(raw, "errors")
    if errors:
        err = errors[0]
        title = f.text(err, "title") or f.text(err, "message") or "error"
        details = f.text(f.obj(err, "error_data"), "details")
        reason = f"{title} ({f.text(err, 'code')})"
        return f"{reason}: {details}" if details and details != title else reason
    return f"message type {kind!r} is not supported"


def _status(raw: Any, account: str) -> ParsedStatus | str:
    message_id = f.text(raw, "id")
    status_raw = f.text(raw, "status")
    reported_at = f.epoch(f.number(raw, "timestamp"))
    if not message_id or reported_at is None:
        return "status without id or timestamp"
    status = _STATUSES.get(status_raw or "")
    if status is None:
        return f"status {status_raw!r} is not tracked"
    error = None
    errors = f.arr(raw, "errors")
    if errors:
        code = f.text(errors[0], "code") or "unknown"
        error = ProviderError(
            code=code,
            title=f.text(errors[0], "title") or f.text(errors[0], "message") or "error",
            details=f.text(f.obj(errors[0], "error_data"), "details"),
            error_class=classify_code(code),
        )
    return ParsedStatus(
        account_ref=account,
        provider_message_ids=(message_id,),
        status=status,
        reported_at=reported_at,
        recipient=f.text(raw, "recipient_id") or f.text(raw, "recipient_user_id"),
        error=error,
        provider_status_raw=status_raw,
        # build.send_call sets it to our client message id: it finds the message when the
        # send's own answer (and so the wamid) never reached us.
        client_message_id=f.text(raw, "biz_opaque_callback_data"),
    )


def split_by_account(body: bytes) -> dict[str, bytes]:
    """The body cut down per ``phone_number_id`` (one JSON pass): what each tenant keeps of a
    body that also carries other numbers' (an app-level webhook), so no tenant's raw webhook
    log holds another's messages. Parsing a part gives exactly that number's share of
    ``parse(body)``."""
    root = f.load_object(body)
    if root is None:
        return {}
    entries: dict[str, list[Any]] = {}
    for entry in f.arr(root, "entry"):
        changes: dict[str, list[Any]] = {}
        for change in f.arr(entry, "changes"):
            account = f.text(f.obj(f.obj(change, "value"), "metadata"), "phone_number_id")
            if account is not None:
                changes.setdefault(account, []).append(change)
        for account, kept in changes.items():
            entries.setdefault(account, []).append({**entry, "changes": kept})
    return {account: orjson.dumps({**root, "entry": kept}) for account, kept in entries.items()}
