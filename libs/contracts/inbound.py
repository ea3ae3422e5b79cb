"""Events on the inbound topic: what providers told us, normalized across Meta, Evolution, Z-API.

One model covers the three providers (see ``docs/providers-model.md``): a provider
adapter parses its webhook into ``InboundMessage`` / status values, ingest-api wraps them in
these events once the webhook is authenticated and routed to an integration.
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from contracts.common import ErrorClass, Frozen, Provider
from contracts.envelope import Event
from contracts.status import MessageStatus


class MessageType(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    VOICE = "voice"
    DOCUMENT = "document"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACTS = "contacts"
    REACTION = "reaction"
    INTERACTIVE_REPLY = "interactive_reply"
    BUTTON_REPLY = "button_reply"
    TEMPLATE = "template"  # ours, or a template message a business sent to this number
    ORDER = "order"  # a cart from the catalog (Meta ``order``)
    # A note from WhatsApp itself, not from the customer (Meta ``system``: changed number).
    SYSTEM = "system"
    UNSUPPORTED = "unsupported"
    # Inbound only, never a message of their own: they change an earlier message.
    EDIT = "edit"
    REVOKE = "revoke"  # deleted for everyone


MEDIA_TYPES = frozenset(
    {
        MessageType.IMAGE,
        MessageType.VIDEO,
        MessageType.AUDIO,
        MessageType.VOICE,
        MessageType.DOCUMENT,
        MessageType.STICKER,
    }
)


class Chat(Frozen):
    kind: Literal["direct", "group", "broadcast", "newsletter", "status"] = "direct"
    id: str
    name: str | None = None  # a group's subject, when the provider sends it


class Sender(Frozen):
    """Who wrote. Any identifier may be missing (Meta usernames, Evolution ``@lid``)."""

    phone: str | None = None
    wa_id: str | None = None
    lid: str | None = None
    display_name: str | None = None


class MediaRef(Frozen):
    """Where the provider keeps an attachment; ``provider_ref`` is what its API needs to fetch it
    (Meta media id, Evolution message key, Z-API URL)."""

    provider_ref: str
    mime: str | None = None
    sha256: str | None = None
    size: int | None = None
    filename: str | None = None
    url: str | None = None
    animated: bool | None = None


class Location(Frozen):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


class ContactCard(Frozen):
    name: str
    phones: tuple[str, ...] = ()


class Reaction(Frozen):
    target_provider_message_id: str
    emoji: str | None = None  # None or empty: the reaction was removed


class Edit(Frozen):
    """An earlier message's new text: its text, or its caption when it carries media (the
    provider does not say which, and WhatsApp edits nothing else)."""

    target_provider_message_id: str
    text: str


class Revoke(Frozen):
    """An earlier message deleted for everyone by its author."""

    target_provider_message_id: str


class Referral(Frozen):
    """The Click-to-WhatsApp ad or post the customer tapped to start writing (Meta
    ``referral``, Evolution/Z-API ``externalAdReply``): which campaign brought the lead."""

    source_type: str | None = None  # "ad" or "post"
    source_id: str | None = None
    source_url: str | None = None
    headline: str | None = None
    body: str | None = None
    media_url: str | None = None  # the ad's image or video (or its thumbnail)
    ctwa_clid: str | None = None  # Meta's click id, for conversions attribution


class OrderItem(Frozen):
    product_retailer_id: str
    quantity: float
    item_price: float | None = None
    currency: str | None = None


class Order(Frozen):
    """A cart a customer sent from the business's catalog (Meta ``order``)."""

    catalog_id: str | None = None
    items: tuple[OrderItem, ...] = ()
    text: str | None = None  # what the customer wrote with it


class NumberChange(Frozen):
    """WhatsApp's note that the customer moved to a new number (Meta ``system``,
    ``user_changed_number``): the contact's new WhatsApp id."""

    new_wa_id: str


class ReplyChoice(Frozen):
    """The option a customer picked in an interactive list/button or a template quick reply."""

    kind: Literal["button", "list", "flow", "template_button"]
    id: str | None = None
    title: str
    description: str | None = None


class InboundMessage(Frozen):
    provider_message_id: str
    chat: Chat
    sender: Sender
    from_me: bool = False
    direction: Literal["inbound", "outbound_echo"] = "inbound"
    sent_at: datetime
    type: MessageType
    text: str | None = None
    caption: str | None = None
    media: MediaRef | None = None
    location: Location | None = None
    contacts: tuple[ContactCard, ...] = ()
    reaction: Reaction | None = None
    edit: Edit | None = None
    revoke: Revoke | None = None
    reply: ReplyChoice | None = None
    order: Order | None = None
    number_change: NumberChange | None = None
    reply_to_provider_message_id: str | None = None
    forwarded: bool = False
    referral: Referral | None = None
    # Why it cannot be shown, in words an agent can act on (Meta's error title and details).
    unsupported_reason: str | None = None


class ProviderError(Frozen):
    code: str
    title: str
    details: str | None = None
    error_class: ErrorClass = ErrorClass.PERMANENT
    retry_after_s: float | None = None


class RawWebhook(Frozen):
    """A webhook as received, for the audit log (``webhook_logs``) and for replay, carried by
    the first event made from it. A separate record beside the events cost ingest-api a model,
    an encoding and a Kafka record per webhook (``make bench``: ingest-api alone)."""

    received_at: datetime
    body: str  # the raw body as received (UTF-8, invalid bytes replaced)
    event_count: int  # the events made from it, this one included


class _Routed(Event):
    """Fields every inbound event carries once ingest-api authenticated and routed the webhook."""

    provider: Provider
    integration_id: UUID
    account_ref: str
    webhook_id: UUID  # the webhook (its ``webhook_logs`` row) this came from
    raw: RawWebhook | None = None  # on the first event of its webhook only


class MessageReceived(_Routed):
    type: Literal["message.received"] = "message.received"
    message: InboundMessage


class StatusReported(_Routed):
    type: Literal["status.reported"] = "status.reported"
    provider_message_ids: tuple[str, ...]
    status: MessageStatus
    recipient: str | None = None
    reported_at: datetime
    error: ProviderError | None = None
    provider_status_raw: str | None = None
    # Our own id of the message, when the provider echoes it back (Meta's
    # ``biz_opaque_callback_data``): it finds a message whose provider id we never got.
    client_message_id: str | None = None


class ContactSynced(_Routed):
    """The business's own phone saved, renamed (``add``) or deleted (``remove``) a contact in
    its WhatsApp Business app address book (Meta coexistence, ``smb_app_state_sync``)."""

    type: Literal["contact.synced"] = "contact.synced"
    phone: str
    name: str | None = None  # the address book's full name; absent on ``remove``
    action: Literal["add", "remove"]
    synced_at: datetime


class WebhookRecorded(Event):
    """A raw webhook that made no event (nothing to carry it: a webhook the parser refused, or
    one of only ignored entries), for the audit log (``webhook_logs``) and for replay."""

    type: Literal["webhook.recorded"] = "webhook.recorded"
    webhook_id: UUID
    provider: Provider
    integration_id: UUID
    received_at: datetime
    body: str  # the raw body as received (UTF-8, invalid bytes replaced)
    outcome: Literal["accepted", "failed"]
    error: str | None = None
    event_count: int = 0


InboundEvent = Annotated[
    MessageReceived | StatusReported | ContactSynced | WebhookRecorded,
    Field(discriminator="type"),
]
