"""The events every service shares: pydantic models, the envelope and the topic names.

Each topic carries one discriminated union (``InboundEvent``, ``OutboundEvent``, ...) so a
consumer validates the wire format at its edge and gets a typed object back.
"""

from contracts.common import ErrorClass, Provider
from contracts.deadletter import DeadLettered
from contracts.envelope import Event, new_event_id
from contracts.inbound import (
    Chat,
    ContactCard,
    ContactSynced,
    Edit,
    InboundEvent,
    InboundMessage,
    Location,
    MediaRef,
    MessageReceived,
    MessageType,
    NumberChange,
    Order,
    OrderItem,
    ProviderError,
    RawWebhook,
    Reaction,
    Referral,
    ReplyChoice,
    Revoke,
    Sender,
    StatusReported,
    WebhookRecorded,
)
from contracts.media import MediaEvent, MediaFetchRequested
from contracts.outbound import (
    MarkReadRequested,
    OutboundContent,
    OutboundEvent,
    OutboundMedia,
    OutboundReaction,
    OutboundTemplate,
    OutboundText,
    SendRequested,
)
from contracts.realtime import (
    ConversationUpdated,
    ConversationView,
    MessageCreated,
    MessageUpdated,
    MessageView,
    RealtimeEvent,
)
from contracts.status import MessageStatus, next_status

__all__ = [
    "Chat",
    "ContactCard",
    "ContactSynced",
    "ConversationUpdated",
    "ConversationView",
    "DeadLettered",
    "Edit",
    "ErrorClass",
    "Event",
    "InboundEvent",
    "InboundMessage",
    "Location",
    "MarkReadRequested",
    "MediaEvent",
    "MediaFetchRequested",
    "MediaRef",
    "MessageCreated",
    "MessageReceived",
    "MessageStatus",
    "MessageType",
    "MessageUpdated",
    "MessageView",
    "NumberChange",
    "Order",
    "OrderItem",
    "OutboundContent",
    "OutboundEvent",
    "OutboundMedia",
    "OutboundReaction",
    "OutboundTemplate",
    "OutboundText",
    "Provider",
    "ProviderError",
    "RawWebhook",
    "Reaction",
    "RealtimeEvent",
    "Referral",
    "ReplyChoice",
    "Revoke",
    "SendRequested",
    "Sender",
    "StatusReported",
    "WebhookRecorded",
    "new_event_id",
    "next_status",
]
