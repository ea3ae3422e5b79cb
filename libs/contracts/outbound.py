"""Events on the outbound topic: what agents asked the dispatcher to do at a provider."""

from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from contracts.common import Frozen, Provider
from contracts.envelope import Event


class OutboundText(Frozen):
    kind: Literal["text"] = "text"
    body: str = Field(min_length=1, max_length=4096)
    preview_url: bool = False


class OutboundMedia(Frozen):
    kind: Literal["media"] = "media"
    media_type: Literal["image", "video", "audio", "document", "sticker"]
    media_key: str  # object key in our bucket, from the media service's upload
    mime: str
    filename: str | None = None
    caption: str | None = Field(default=None, max_length=1024)


class OutboundTemplate(Frozen):
    kind: Literal["template"] = "template"
    name: str
    language: str = "en_US"
    body_params: tuple[str, ...] = ()


class OutboundReaction(Frozen):
    kind: Literal["reaction"] = "reaction"
    target_provider_message_id: str
    emoji: str  # empty string removes the reaction


OutboundContent = Annotated[
    OutboundText | OutboundMedia | OutboundTemplate | OutboundReaction,
    Field(discriminator="kind"),
]


class SendRequested(Event):
    type: Literal["send.requested"] = "send.requested"
    message_id: UUID
    conversation_id: UUID
    integration_id: UUID
    provider: Provider
    to: str  # the customer's WhatsApp id / phone as the provider expects it
    client_message_id: str
    content: OutboundContent
    reply_to_provider_message_id: str | None = None


class MarkReadRequested(Event):
    type: Literal["mark_read.requested"] = "mark_read.requested"
    conversation_id: UUID
    integration_id: UUID
    provider: Provider
    provider_message_id: str
    chat_id: str


OutboundEvent = Annotated[SendRequested | MarkReadRequested, Field(discriminator="type")]
