"""Z-API webhook bodies → ``ParsedWebhook``. Pure; never raises.

Shapes: https://developer.z-api.io/en/webhooks/on-message-received (``ReceivedCallback``),
.../on-whatsapp-message-status-changes (``MessageStatusCallback``, several ``ids`` per call),
.../on-message-send (``DeliveryCallback`` ≈ sent). ``momment`` (sic) is epoch milliseconds.

Deliberate choices: group messages parsed as group chats (``phone`` is the group, the writer
``participantPhone``; whether they are kept is the integration's ``group_messages`` setting,
applied by ingest-api), newsletters/broadcasts ignored with a reason; ``fromMe`` kept as
``outbound_echo``; ``hydratedTemplate`` (a template a business sent) kept as its text; an
``order`` (a cart from the catalog) as its items, without prices;
``READ_BY_ME`` ignored (the business phone read an inbound message); ``waitingMessage``
placeholders ignored (the real content follows with the same id); ``isEdit`` messages are
edits of the message of the same id; a ``notification`` of ``REVOKE`` ("deleted a message",
in the docs' list of notifications) is the delete-for-everyone of the message it names.
"""

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from contracts.inbound import (
    Chat,
    ContactCard,
    Edit,
    InboundMessage,
    Location,
    MediaRef,
    MessageType,
    Order,
    OrderItem,
    ProviderError,
    Reaction,
    ReplyChoice,
    Revoke,
    Sender,
)
from contracts.status import MessageStatus
from providers import fields as f
from providers import orders, referral, templates
from providers.base import ParsedMessage, ParsedStatus, ParsedWebhook, Rejection

_STATUSES = {
    "SENT": MessageStatus.SENT,
    "RECEIVED": MessageStatus.DELIVERED,
    "READ": MessageStatus.READ,
    "PLAYED": MessageStatus.PLAYED,
}
# content key → (type, url key)
_MEDIA = {
    "image": (MessageType.IMAGE, "imageUrl"),
    "video": (MessageType.VIDEO, "videoUrl"),
    "audio": (MessageType.AUDIO, "audioUrl"),
    "document": (MessageType.DOCUMENT, "documentUrl"),
    "sticker": (MessageType.STICKER, "stickerUrl"),
}


def parse(body: bytes) -> ParsedWebhook | Rejection:
    try:
        return _parse(body)
    except (ValidationError, ValueError, TypeError, KeyError, AttributeError) as exc:
        return Rejection(f"unusable Z-API payload: {type(exc).__name__}", status=400)


def _parse(body: bytes) -> ParsedWebhook | Rejection:
    root = f.load_object(body)
    if root is None:
        return Rejection("body is not a JSON object", status=400)
    kind, instance = f.text(root, "type"), f.text(root, "instanceId")
    if not kind or not instance:
        return Rejection("missing type or instanceId", status=400)
    if kind == "ReceivedCallback":
        message = _message(root)
        if isinstance(message, str):
            return ParsedWebhook(ignored=(message,))
        return ParsedWebhook(messages=(ParsedMessage(instance, message),))
    if kind == "MessageStatusCallback":
        return _status(root, instance)
    if kind == "DeliveryCallback":
        return _delivery(root, instance)
    return ParsedWebhook(ignored=(f"callback {kind!r} is not handled",))


def _message(root: dict[str, Any]) -> InboundMessage | str:
    message_id, phone = f.text(root, "messageId"), f.text(root, "phone")
    millis = f.number(root, "momment")
    sent_at = f.epoch(millis / 1000 if millis is not None else None)
    if not message_id or not phone or sent_at is None:
        return "message without messageId, phone or momment"
    group = f.flag(root, "isGroup") or phone.endswith("-group")
    if f.flag(root, "isNewsletter") or f.flag(root, "broadcast") or f.flag(root, "isStatusReply"):
        return "newsletter, broadcast and status messages are not handled"
    if f.flag(root, "waitingMessage"):
        return "waiting-for-message placeholder (content follows with the same id)"
    from_me = f.flag(root, "fromMe")
    # In a group the writer is the participant; the chat is the group, ``chatName`` its subject.
    writer = f.text(root, "participantPhone") if group else phone
    is_lid = bool(writer and writer.endswith("@lid"))
    fields: dict[str, Any] = {
        "provider_message_id": message_id,
        "chat": Chat(kind="group", id=phone, name=f.text(root, "chatName"))
        if group
        else Chat(id=phone),
        "sender": Sender(
            phone=None if is_lid else writer,
            wa_id=None if is_lid else writer,
            lid=None if group else f.digits(f.text(root, "chatLid") or (phone if is_lid else None)),
            display_name=None
            if from_me
            else (f.text(root, "senderName") or (None if group else f.text(root, "chatName"))),
        ),
        "from_me": from_me,
        "direction": "outbound_echo" if from_me else "inbound",
        "sent_at": sent_at,
        "reply_to_provider_message_id": f.text(root, "referenceMessageId"),
        "forwarded": f.flag(root, "forwarded"),
        "referral": referral.external_ad(root),
    }
    content = _content(root)
    if f.flag(root, "isEdit"):
        # An edit comes again with the original's messageId and its new text or caption.
        new_text = content.get("text") or content.get("caption")
        if not isinstance(new_text, str):
            return "edit without a text or caption"
        content = {
            "type": MessageType.EDIT,
            "edit": Edit(target_provider_message_id=message_id, text=new_text),
        }
    if f.text(root, "notification") == "REVOKE":
        # Z-API runs on WhatsApp Web, where a message deleted for everyone stays under its own
        # id as a revoked message: the notification comes with that id (or names it as the
        # referenced message).
        target = f.text(root, "referenceMessageId") or message_id
        content = {
            "type": MessageType.REVOKE,
            "revoke": Revoke(target_provider_message_id=target),
        }
    fields.update(content)
    return InboundMessage(**fields)


def _content(root: dict[str, Any]) -> dict[str, Any]:
    text = f.obj(root, "text")
    if f.text(text, "message") is not None:
        return {"type": MessageType.TEXT, "text": f.text(text, "message")}
    for key, (media_type, url_key) in _MEDIA.items():
        payload = f.obj(root, key)
        url = f.text(payload, url_key)
        if url:
            if key == "audio" and f.flag(payload, "ptt"):
                media_type = MessageType.VOICE
            media = MediaRef(
                provider_ref=url,
                url=url,
                mime=f.text(payload, "mimeType"),
                filename=f.text(payload, "fileName"),
            )
            return {"type": media_type, "media": media, "caption": f.text(payload, "caption")}
    location = f.obj(root, "location")
    lat, lng = f.number(location, "latitude"), f.number(location, "longitude")
    if lat is not None and lng is not None:
        loc = Location(
            latitude=lat,
            longitude=lng,
            name=f.text(location, "name"),
            address=f.text(location, "address"),
        )
        return {"type": MessageType.LOCATION, "location": loc}
    contact = f.obj(root, "contact")
    if contact:
        vcard = f.text(contact, "vCard") or ""
        phones = tuple(
            line.rsplit(":", 1)[1].strip()
            for line in vcard.splitlines()
            if line.upper().startswith("TEL") and ":" in line
        )
        return {
            "type": MessageType.CONTACTS,
            "contacts": (ContactCard(name=f.text(contact, "displayName") or "", phones=phones),),
        }
    reaction = f.obj(root, "reaction")
    target = f.text(f.obj(reaction, "referencedMessage"), "messageId")
    if target:
        removed = Reaction(
            target_provider_message_id=target, emoji=f.text(reaction, "value") or None
        )
        return {"type": MessageType.REACTION, "reaction": removed}
    buttons = f.obj(root, "buttonsResponseMessage")
    if f.text(buttons, "message"):
        reply = ReplyChoice(
            kind="button", id=f.text(buttons, "buttonId"), title=f.text(buttons, "message") or ""
        )
        return {"type": MessageType.INTERACTIVE_REPLY, "reply": reply}
    listed = f.obj(root, "listResponseMessage")
    if f.text(listed, "title") or f.text(listed, "message"):
        reply = ReplyChoice(
            kind="list",
            id=f.text(listed, "selectedRowId"),
            title=f.text(listed, "title") or f.text(listed, "message") or "",
        )
        return {"type": MessageType.INTERACTIVE_REPLY, "reply": reply}
    template = f.obj(root, "hydratedTemplate")
    if template:
        rendered = templates.render(
            title=f.text(template, "title"),
            body=f.text(template, "message"),
            footer=f.text(template, "footer"),
            buttons=[_button_label(b) for b in f.arr(template, "hydratedButtons")],
        )
        if rendered is not None:
            return {"type": MessageType.TEMPLATE, "text": rendered}
    cart = f.obj(root, "order")
    if cart:
        return _order(cart)
    known = sorted(k for k, v in root.items() if isinstance(v, dict))
    return {
        "type": MessageType.UNSUPPORTED,
        "unsupported_reason": f"content {known or 'none'} is not supported",
    }


def _order(cart: dict[str, Any]) -> dict[str, Any]:
    """A cart from the catalog. Z-API's docs do not say in what unit ``price`` and ``total``
    are (WhatsApp's own order carries thousandths), so no price is kept: the agent reads the
    items and units, never a total that may be off by a factor."""
    items = tuple(
        OrderItem(
            product_retailer_id=f.text(p, "retailerId") or f.text(p, "productId") or "",
            quantity=f.number(p, "quantity") or 0,
            currency=f.text(p, "currencyCode") or f.text(cart, "currency"),
        )
        for p in f.arr(cart, "products")
        if isinstance(p, dict)
    )
    order = Order(items=items, text=f.text(cart, "message") or None)
    return {"type": MessageType.ORDER, "order": order, "text": orders.summary(order)}


def _button_label(button: Any) -> str:
    """A hydrated button's label, whichever kind it is (URL, call, quick reply)."""
    if not isinstance(button, dict):
        return ""
    for value in button.values():
        label = f.text(value, "displayText")
        if label:
            return label
    return ""


def _status(root: dict[str, Any], instance: str) -> ParsedWebhook:
    raw = f.text(root, "status") or ""
    if raw == "READ_BY_ME":
        return ParsedWebhook(
            ignored=("READ_BY_ME is the business phone reading an inbound message",)
        )
    status = _STATUSES.get(raw)
    ids = tuple(i for i in f.arr(root, "ids") if isinstance(i, str) and i) or tuple(
        i for i in [f.text(root, "id")] if i
    )
    millis = f.number(root, "momment")
    reported_at = f.epoch(millis / 1000 if millis is not None else None)
    if status is None or not ids or reported_at is None:
        return ParsedWebhook(ignored=(f"status {raw!r} without ids or momment is not tracked",))
    if f.flag(root, "isGroup"):
        return ParsedWebhook(ignored=("group statuses are not handled",))
    parsed = ParsedStatus(
        account_ref=instance,
        provider_message_ids=ids,
        status=status,
        reported_at=reported_at,
        recipient=f.text(root, "phone"),
        provider_status_raw=raw,
    )
    return ParsedWebhook(statuses=(parsed,))


def _delivery(root: dict[str, Any], instance: str) -> ParsedWebhook:
    message_id = f.text(root, "messageId")
    if not message_id:
        return ParsedWebhook(ignored=("DeliveryCallback without messageId",))
    error = f.text(root, "error")
    if error:
        failed = ParsedStatus(
            account_ref=instance,
            provider_message_ids=(message_id,),
            status=MessageStatus.FAILED,
            reported_at=datetime.now(UTC),
            recipient=f.text(root, "phone"),
            error=ProviderError(code="zapi_delivery", title=error),
            provider_status_raw="DeliveryCallback.error",
        )
        return ParsedWebhook(statuses=(failed,))
    sent = ParsedStatus(
        account_ref=instance,
        provider_message_ids=(message_id,),
        status=MessageStatus.SENT,
        reported_at=datetime.now(UTC),  # the callback carries no time of its own
        recipient=f.text(root, "phone"),
        provider_status_raw="DeliveryCallback",
    )
    return ParsedWebhook(statuses=(sent,))
