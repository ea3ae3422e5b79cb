"""Evolution edits and deletions for everyone → ``InboundMessage`` of type edit / revoke. Pure.

Baileys carries both as a ``protocolMessage`` ``{key, type, editedMessage?, timestampMs?}`` whose
``key`` names the message changed. Evolution posts it in three ways (evolution-api v2,
``whatsapp.baileys.service.ts``): as ``messages.edited`` (``data`` is the protocolMessage, of any
protocol type), inside a ``messages.upsert`` (``message.protocolMessage``, or
``message.editedMessage.message.protocolMessage``), and a deletion as ``messages.delete`` too
(``data`` is the deleted message's key). One change may so arrive twice; applying it is
idempotent, so both are taken.
"""

from datetime import UTC, datetime
from typing import Any

from contracts.inbound import Chat, Edit, InboundMessage, MessageType, Revoke, Sender
from providers import fields as f
from providers.evolution.ids import compose

# Protocol message types as Evolution serializes them: the enum's name, or its number.
_REVOKE = ("REVOKE", "0")
_EDIT = ("MESSAGE_EDIT", "14")
PROTOCOL_KINDS = frozenset({"protocolMessage", "editedMessage"})


def protocol_of(content: dict[str, Any]) -> dict[str, Any]:
    """The protocolMessage of a ``messages.upsert`` message, direct or wrapped in an edit."""
    direct = f.obj(content, "protocolMessage")
    if direct:
        return direct
    return f.obj(f.obj(f.obj(content, "editedMessage"), "message"), "protocolMessage")


def change(protocol: dict[str, Any], chat_jid: str) -> dict[str, Any] | str:
    """The type and edit / revoke fields a protocolMessage makes, or why it is ignored (other
    protocol types: ephemeral settings, history sync, ...)."""
    key = f.obj(protocol, "key")
    key_id = f.text(key, "id")
    if not key_id:
        return "protocolMessage without key.id"
    target = compose(f.text(key, "remoteJid") or chat_jid, key_id)
    kind = f.text(protocol, "type")
    if kind in _REVOKE:
        return {"type": MessageType.REVOKE, "revoke": Revoke(target_provider_message_id=target)}
    if kind in _EDIT:
        new_text = edited_text(f.obj(protocol, "editedMessage"))
        if new_text is None:
            return "message edit without a text or caption"
        return {
            "type": MessageType.EDIT,
            "edit": Edit(target_provider_message_id=target, text=new_text),
        }
    return f"protocolMessage {kind!r} is not handled"


def edited_text(message: dict[str, Any]) -> str | None:
    """A text's new body or a media message's new caption (all WhatsApp lets one edit)."""
    if f.text(message, "conversation") is not None:
        return f.text(message, "conversation")
    extended = f.text(f.obj(message, "extendedTextMessage"), "text")
    if extended is not None:
        return extended
    wrapped = f.obj(f.obj(message, "documentWithCaptionMessage"), "message")
    for holder, key in (
        (message, "imageMessage"),
        (message, "videoMessage"),
        (message, "documentMessage"),
        (wrapped, "documentMessage"),
    ):
        caption = f.text(f.obj(holder, key), "caption")
        if caption is not None:
            return caption
    return None


def event_message(event: str, data: dict[str, Any], root: dict[str, Any]) -> InboundMessage | str:
    """``messages.edited`` / ``messages.delete``: the change as an inbound message."""
    key = data if event == "messages.delete" else f.obj(data, "key")
    jid, key_id = f.text(key, "remoteJid"), f.text(key, "id")
    if not jid or not key_id:
        return f"{event} without key.remoteJid or key.id"
    if not jid.endswith(("@s.whatsapp.net", "@lid")):
        return f"{event} of a group, broadcast or newsletter chat is not handled"
    if event == "messages.delete":
        fields: dict[str, Any] | str = {
            "type": MessageType.REVOKE,
            "revoke": Revoke(target_provider_message_id=compose(jid, key_id)),
        }
    else:
        fields = change(data, jid)
    if isinstance(fields, str):
        return fields
    from_me = f.flag(key, "fromMe")
    millis = f.number(data, "timestampMs")
    return InboundMessage(
        provider_message_id=compose(jid, key_id),
        chat=Chat(id=jid),
        sender=Sender() if from_me else _sender(jid),
        from_me=from_me,
        direction="outbound_echo" if from_me else "inbound",
        sent_at=f.epoch(millis / 1000 if millis is not None else None) or _sent(root),
        **fields,
    )


def _sender(jid: str) -> Sender:
    if jid.endswith("@lid"):
        return Sender(lid=f.digits(jid))
    return Sender(phone=f.digits(jid), wa_id=f.digits(jid))


def _sent(root: dict[str, Any]) -> datetime:
    """When Evolution posted it (``date_time``); these events carry no time of their own."""
    stamp = f.text(root, "date_time")
    try:
        parsed = datetime.fromisoformat(stamp) if stamp else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        return datetime.now(UTC)
    return parsed
