"""Events on the media topic: attachments to copy from a provider into our bucket."""

from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from contracts.common import Provider
from contracts.envelope import Event
from contracts.inbound import MediaRef, MessageType


class MediaFetchRequested(Event):
    type: Literal["media_fetch.requested"] = "media_fetch.requested"
    message_id: UUID
    conversation_id: UUID
    integration_id: UUID
    provider: Provider
    message_type: MessageType
    media: MediaRef


MediaEvent = Annotated[MediaFetchRequested, Field(discriminator="type")]
