"""What reaches the webhook besides a customer's everyday messages, the way each provider posts
it (same sources as the parsers: ``providers.meta.parse``/``content``, ``providers.evolution
.parse``, ``providers.zapi.parse``):

- ``phone_echo``: the business typed a message on its own phone or WhatsApp Business app to
  the customer (Meta coexistence ``smb_message_echoes``, Evolution/Z-API ``fromMe``);
- ``contact_sync`` / ``contact_removed``: the business saved (``name`` is the saved name) or
  deleted the customer in its app's address book (Meta ``smb_app_state_sync``);
- ``system``: WhatsApp's note that the customer moved to the number in ``text`` (Meta);
- ``order``: a cart from the catalog (Meta, Z-API); ``template``: a template message a business sent
  to this number (Evolution, Z-API); ``group``: a text in a group chat the customer wrote in.
"""

import time
from typing import Any

import orjson

from contracts.common import Provider
from simulator import webhooks

KINDS = ("phone_echo", "contact_sync", "contact_removed", "system", "order", "template", "group")
_ONLY = {
    "contact_sync": {Provider.META},
    "contact_removed": {Provider.META},
    "system": {Provider.META},
    "order": {Provider.META, Provider.ZAPI},
    "template": {Provider.EVOLUTION, Provider.ZAPI},
}
BUSINESS_PHONE = "15550000000"


def supported(provider: Provider, kind: str) -> bool:
    return kind in KINDS and provider in _ONLY.get(kind, set(Provider))


def group_of(who: webhooks.Customer) -> str:
    """The group chat a customer writes in: one per customer, stable across calls."""
    return "120363" + who.phone[-12:].rjust(12, "0")


def post_body(
    provider: Provider,
    account: str,
    who: webhooks.Customer,
    spec: webhooks.InboundSpec,
    media_base: str = "",
) -> tuple[str, bytes]:
    """(the message's provider id as the parser reports it, or "" for a contact; body): the
    signature of ``webhooks.inbound``."""
    if not supported(provider, spec.kind):
        raise ValueError(f"{provider.value} posts no {spec.kind}")
    text = webhooks.InboundSpec(kind="text", text=spec.text, message_id=spec.message_id)
    message_id, body = webhooks.inbound(provider, account, who, text, media_base)
    wire: dict[str, Any] = orjson.loads(body)
    if provider is Provider.META:
        return message_id, orjson.dumps(_meta(wire, who, spec))
    if provider is Provider.EVOLUTION:
        return _evolution(wire, who, spec, message_id)
    return message_id, orjson.dumps(_zapi(wire, who, spec))


def _meta(wire: dict[str, Any], who: webhooks.Customer, spec: webhooks.InboundSpec) -> Any:
    change = wire["entry"][0]["changes"][0]
    value = change["value"]
    msg = value["messages"][0]
    if spec.kind == "phone_echo":
        msg |= {"from": BUSINESS_PHONE, "to": who.phone}
        del value["contacts"], value["messages"]
        change["field"], value["message_echoes"] = "smb_message_echoes", [msg]
    elif spec.kind in ("contact_sync", "contact_removed"):
        contact: dict[str, Any] = {"phone_number": who.phone}
        if spec.kind == "contact_sync":
            contact |= {"full_name": who.name, "first_name": who.name.split(" ")[0]}
        item = {
            "type": "contact",
            "contact": contact,
            "action": "add" if spec.kind == "contact_sync" else "remove",
            "metadata": {"timestamp": str(int(time.time()))},
        }
        del value["contacts"], value["messages"]
        change["field"], value["state_sync"] = "smb_app_state_sync", [item]
    elif spec.kind == "system":
        del msg["text"], value["contacts"]  # a system message has no contacts array
        msg |= {
            "type": "system",
            "system": {
                "body": f"User {who.name} changed from {who.phone} to {spec.text}",
                "wa_id": spec.text,
                "type": "user_changed_number",
            },
        }
    elif spec.kind == "order":
        del msg["text"]
        product = {"product_retailer_id": "sku-1", "quantity": 2, "item_price": 10}
        msg |= {
            "type": "order",
            "order": {
                "catalog_id": "sim-catalog",
                "text": spec.text,
                "product_items": [product | {"currency": "BRL"}],
            },
        }
    else:  # group
        msg["group_id"] = group_of(who)
    return wire


def _evolution(
    wire: dict[str, Any], who: webhooks.Customer, spec: webhooks.InboundSpec, message_id: str
) -> tuple[str, bytes]:
    data = wire["data"]
    key_id = message_id.rpartition("/")[2]
    if spec.kind == "phone_echo":
        data["key"]["fromMe"] = True
    elif spec.kind == "template":
        data["messageType"] = "templateMessage"
        data["message"] = {
            "templateMessage": {
                "hydratedTemplate": {
                    "hydratedTitleText": "Sim Store",
                    "hydratedContentText": spec.text,
                    "hydratedButtons": [{"quickReplyButton": {"displayText": "OK", "id": "ok"}}],
                }
            }
        }
    else:  # group
        jid = f"{group_of(who)}@g.us"
        data["key"] |= {"remoteJid": jid, "participant": f"{who.phone}@s.whatsapp.net"}
        return f"{jid}/{key_id}", orjson.dumps(wire)
    return message_id, orjson.dumps(wire)


def _zapi(wire: dict[str, Any], who: webhooks.Customer, spec: webhooks.InboundSpec) -> Any:
    if spec.kind == "phone_echo":
        wire["fromMe"] = True
    elif spec.kind == "template":
        del wire["text"]
        wire["hydratedTemplate"] = {
            "title": "Sim Store",
            "message": spec.text,
            "hydratedButtons": [
                {"index": 0, "quickReplyButton": {"displayText": "OK", "id": "ok"}}
            ],
        }
    elif spec.kind == "order":  # the docs' cart example, one product
        del wire["text"]
        product = {"quantity": 2, "name": "Sim product", "productId": "5338924696127051"}
        wire["order"] = {
            "itemCount": 1,
            "orderId": "422508169684569",
            "message": spec.text,
            "orderTitle": "Sim product",
            "currency": "BRL",
            "total": 20000,
            "products": [product | {"retailerId": "sku-1", "price": 10000, "currencyCode": "BRL"}],
        }
    else:  # group
        wire |= {
            "isGroup": True,
            "phone": f"{group_of(who)}-group",
            "participantPhone": who.phone,
            "chatName": "Sim Group",
        }
    return wire
