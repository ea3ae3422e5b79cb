"""A customer's edit or delete-for-everyone of an earlier message, the way each provider posts
it (same sources as the parsers: ``providers.meta.parse``, ``providers.evolution.amend``,
``providers.zapi.parse``). ``spec.reply_to`` names the message changed (as the parser reports
its id), ``spec.text`` is an edit's new text.
"""

import time
from typing import Any

import orjson

from contracts.common import Provider
from simulator import webhooks

KINDS = ("edit", "revoke")


def supported(provider: Provider, kind: str) -> bool:
    return kind in KINDS


def change(
    provider: Provider,
    account: str,
    who: webhooks.Customer,
    spec: webhooks.InboundSpec,
    media_base: str = "",
) -> tuple[str, bytes]:
    """(the change's own provider id, body); the signature of ``webhooks.inbound``."""
    target = spec.reply_to or "unknown"
    if provider is Provider.META:
        return _meta(account, who, spec, target)
    if provider is Provider.EVOLUTION:
        return _evolution(account, who, spec, target)
    return _zapi(account, who, spec, target)


def _meta(
    account: str, who: webhooks.Customer, spec: webhooks.InboundSpec, target: str
) -> tuple[str, bytes]:
    message_id = spec.message_id or webhooks.new_message_id(Provider.META)
    msg: dict[str, Any] = {"from": who.phone, "id": message_id, "timestamp": str(int(time.time()))}
    if spec.kind == "edit":
        edited = {"type": "text", "text": {"body": spec.text}}
        msg |= {"type": "edit", "edit": {"original_message_id": target, "message": edited}}
    else:
        msg |= {"type": "revoke", "revoke": {"original_message_id": target}}
    contacts = [{"profile": {"name": who.name}, "wa_id": who.phone}]
    return message_id, webhooks.meta_envelope(account, {"contacts": contacts, "messages": [msg]})


def _evolution(
    account: str, who: webhooks.Customer, spec: webhooks.InboundSpec, target: str
) -> tuple[str, bytes]:
    jid = f"{who.phone}@s.whatsapp.net"
    key_id = spec.message_id or webhooks.new_message_id(Provider.EVOLUTION)
    protocol: dict[str, Any] = {
        "key": {"remoteJid": jid, "fromMe": False, "id": target.rpartition("/")[2]},
        "type": "MESSAGE_EDIT" if spec.kind == "edit" else "REVOKE",
    }
    if spec.kind == "edit":
        protocol |= {
            "editedMessage": {"conversation": spec.text},
            "timestampMs": str(int(time.time() * 1000)),
        }
        message_type, message = (
            "editedMessage",
            {"editedMessage": {"message": {"protocolMessage": protocol}}},
        )
    else:
        message_type, message = "protocolMessage", {"protocolMessage": protocol}
    data = {
        "key": {"remoteJid": jid, "fromMe": False, "id": key_id},
        "pushName": who.name,
        "message": message,
        "messageType": message_type,
        "messageTimestamp": int(time.time()),
        "instanceId": "00000000-0000-4000-8000-000000000000",
        "source": "android",
    }
    return f"{jid}/{key_id}", webhooks.evolution_envelope(account, "messages.upsert", data)


def _zapi(
    account: str, who: webhooks.Customer, spec: webhooks.InboundSpec, target: str
) -> tuple[str, bytes]:
    # An edit comes again as the original message, same messageId, flagged isEdit; a deletion
    # as a notification of that id (no content).
    _, body = webhooks.zapi_message(
        account, who, webhooks.InboundSpec(kind="text", text=spec.text, message_id=target), ""
    )
    if spec.kind == "edit":
        return target, orjson.dumps(orjson.loads(body) | {"isEdit": True})
    revoked = {k: v for k, v in orjson.loads(body).items() if k != "text"}
    return target, orjson.dumps(revoked | {"notification": "REVOKE", "notificationParameters": []})
