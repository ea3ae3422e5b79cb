"""Meta webhook bodies → ``ParsedWebhook``. Pure; never raises.

Envelope and per-type shapes:
https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/
(the content of each type: ``providers.meta.content``) and .../messages/status for
``statuses[]``. Every ``entry[]``/``changes[]``/``messages[]``/``statuses[]`` is iterated: Meta
batches up to 1000 updates per POST.

Coexistence (a number on the Cloud API and in the WhatsApp Business app at once):
``smb_message_echoes`` (.../reference/smb_message_echoes) carries what the business sent from
the app, kept as ``direction="outbound_echo"`` messages to the customer in ``to``;
``smb_app_state_sync`` (.../reference/smb_app_state_sync) the app's address book changes.
"""

from typing import Any

import orjson
from pydantic import ValidationError

from contracts.inbound import Chat, InboundMessage, ProviderError, Sender
from contracts.status import MessageStatus
from providers import fields as f
from providers import referral
from providers.base import ParsedContact, ParsedMessage, ParsedStatus, ParsedWebhook, Rejection
from providers.meta.build import classify_code
from providers.meta.content import content

_STATUSES = {
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.READ,
    "played": MessageStatus.PLAYED,
    "failed": MessageStatus.FAILED,
}
_FIELDS = frozenset({"messages", "smb_message_echoes", "smb_app_state_sync"})


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
    contacts: list[ParsedContact] = []
    ignored: list[str] = []
    named: set[str] = set()
    for entry in f.arr(root, "entry"):
        for change in f.arr(entry, "changes"):
            field = f.text(change, "field")
            value = f.obj(change, "value")
            account = f.text(f.obj(value, "metadata"), "phone_number_id")
            if account is not None:
                named.add(account)
            if field not in _FIELDS:
                ignored.append(f"field {field!r} is not handled")
                continue
            if account is None:
                ignored.append("change without metadata.phone_number_id")
                continue
            for item in f.arr(value, "state_sync"):
                synced = _state_sync(item, account)
                if isinstance(synced, str):
                    ignored.append(synced)
                else:
                    contacts.append(synced)
            names = _contact_names(value)
            raws = [(raw, False) for raw in f.arr(value, "messages")]
            raws += [(raw, True) for raw in f.arr(value, "message_echoes")]
            for raw, echo in raws:
                parsed = _message(raw, names, echo=echo)
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
    return ParsedWebhook(
        tuple(messages), tuple(statuses), tuple(ignored), frozenset(named), tuple(contacts)
    )


def _contact_names(value: dict[str, Any]) -> dict[str, str]:
    names: dict[str, str] = {}
    for contact in f.arr(value, "contacts"):
        wa_id = f.text(contact, "wa_id") or f.text(contact, "user_id")
        name = f.text(f.obj(contact, "profile"), "name")
        if wa_id and name:
            names[wa_id] = name
    return names


def _message(raw: Any, names: dict[str, str], *, echo: bool = False) -> InboundMessage | str:
    """A message object; ``echo``: one of ``message_echoes[]``, sent by the business from the
    WhatsApp Business app to the customer in ``to`` (``from`` is the business itself)."""
    message_id = f.text(raw, "id")
    sender_phone = None if echo else f.text(raw, "from")
    sender_id = f.text(raw, "to") if echo else sender_phone or f.text(raw, "from_user_id")
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
            display_name=None if echo else names.get(sender_id),
        ),
        "from_me": echo,
        "direction": "outbound_echo" if echo else "inbound",
        "sent_at": sent_at,
        "reply_to_provider_message_id": f.text(context, "id"),
        "forwarded": f.flag(context, "forwarded") or f.flag(context, "frequently_forwarded"),
        "referral": referral.meta(raw),
    }
    fields.update(content(kind, raw))
    return InboundMessage(**fields)


def _state_sync(raw: Any, account: str) -> ParsedContact | str:
    """One address book change of the business's app: ``add`` (added or edited) carries the
    name, ``remove`` only the number."""
    contact = f.obj(raw, "contact")
    phone = f.text(contact, "phone_number")
    action = f.text(raw, "action")
    synced_at = f.epoch(f.number(f.obj(raw, "metadata"), "timestamp"))
    if f.text(raw, "type") != "contact" or not phone or synced_at is None:
        return "state_sync item without a contact, its phone_number or timestamp"
    if action not in ("add", "remove"):
        return f"state_sync action {action!r} is not handled"
    name = f.text(contact, "full_name") or f.text(contact, "first_name")
    return ParsedContact(account, phone, name, "add" if action == "add" else "remove", synced_at)


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
