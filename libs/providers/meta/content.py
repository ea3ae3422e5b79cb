"""The content of one Meta message object, by its ``type``. Pure.

Shapes: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/
(one page per type; ``order`` and ``system`` have their own pages there). The same message
objects arrive in ``messages[]`` and in coexistence's ``message_echoes[]``.
"""

from typing import Any

from contracts.inbound import (
    ContactCard,
    Edit,
    Location,
    MediaRef,
    MessageType,
    NumberChange,
    Order,
    OrderItem,
    Reaction,
    ReplyChoice,
    Revoke,
)
from providers import fields as f
from providers import orders

_MEDIA = {
    "image": MessageType.IMAGE,
    "video": MessageType.VIDEO,
    "audio": MessageType.AUDIO,
    "document": MessageType.DOCUMENT,
    "sticker": MessageType.STICKER,
}
# System notes that say the customer moved to a new number (``customer_changed_number`` is
# the name older API versions used).
_NUMBER_CHANGES = frozenset({"user_changed_number", "customer_changed_number"})


def content(kind: str, raw: Any) -> dict[str, Any]:
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
    elif kind == "order":
        return _order(payload)
    elif kind == "system":
        return _system(payload)
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


def _order(payload: dict[str, Any]) -> dict[str, Any]:
    items = tuple(
        OrderItem(
            product_retailer_id=f.text(i, "product_retailer_id") or "",
            quantity=f.number(i, "quantity") or 0,
            item_price=f.number(i, "item_price"),
            currency=f.text(i, "currency"),
        )
        for i in f.arr(payload, "product_items")
        if isinstance(i, dict)
    )
    order = Order(
        catalog_id=f.text(payload, "catalog_id"), items=items, text=f.text(payload, "text")
    )
    return {"type": MessageType.ORDER, "order": order, "text": orders.summary(order)}


def _system(payload: dict[str, Any]) -> dict[str, Any]:
    body = f.text(payload, "body") or "System message"
    fields: dict[str, Any] = {"type": MessageType.SYSTEM, "text": body}
    # ``wa_id`` today; ``new_wa_id`` in the versions before v12.
    new_wa_id = f.text(payload, "wa_id") or f.text(payload, "new_wa_id")
    if f.text(payload, "type") in _NUMBER_CHANGES and new_wa_id:
        fields["number_change"] = NumberChange(new_wa_id=new_wa_id)
    return fields
