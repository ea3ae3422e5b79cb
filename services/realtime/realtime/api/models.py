"""Request and response bodies of the REST API (responses reuse the contract snapshots)."""

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.common import Provider
from contracts.outbound import OutboundMedia, OutboundTemplate, OutboundText
from contracts.realtime import ConversationView, MessageView


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReactionRequest(Body):
    kind: Literal["reaction"] = "reaction"
    message_id: UUID  # the message reacted to, in this conversation
    emoji: str = Field(max_length=16)  # empty removes the reaction


MessageContent = Annotated[
    OutboundText | OutboundMedia | OutboundTemplate | ReactionRequest,
    Field(discriminator="kind"),
]


class NewMessage(Body):
    client_message_id: str = Field(
        min_length=1, max_length=128, description="idempotency key chosen by the client"
    )
    content: MessageContent
    reply_to_message_id: UUID | None = Field(
        default=None, description="reply context: a message of this conversation"
    )


class NewConversation(Body):
    integration_id: UUID
    phone: str = Field(pattern=r"^\+?[0-9]{8,15}$", description="E.164, with or without +")
    client_message_id: str = Field(min_length=1, max_length=128)
    template: OutboundTemplate


class ConversationPatch(Body):
    status: Literal["open", "closed"] | None = None
    assignee: str | None = Field(default=None, max_length=200)


class ConversationPage(BaseModel):
    items: list[ConversationView]
    next_cursor: str | None


class MessagePage(BaseModel):
    items: list[MessageView]
    next_before: str | None


class StartedConversation(BaseModel):
    conversation: ConversationView
    message: MessageView


# What an integration does with group chats' messages: drops them (the default: a support
# inbox answers people) or stores them as conversations of their own.
GroupMessages = Literal["ignore", "store"]


class NewIntegration(Body):
    provider: Provider
    external_account_id: str = Field(min_length=1, max_length=200)
    display_name: str | None = Field(default=None, max_length=200)
    credentials: dict[str, Any] = Field(description="write-only: never returned")
    api_base_url: str | None = Field(default=None, max_length=500)
    rate_limit_per_s: float | None = Field(default=None, gt=0)
    group_messages: GroupMessages = "ignore"


class IntegrationPatch(Body):
    display_name: str | None = Field(default=None, max_length=200)
    credentials: dict[str, Any] | None = Field(default=None, description="write-only")
    api_base_url: str | None = Field(default=None, max_length=500)
    rate_limit_per_s: float | None = Field(default=None, gt=0)
    status: Literal["active", "disabled"] | None = None
    group_messages: GroupMessages | None = None


class IntegrationOut(BaseModel):
    id: UUID
    provider: Provider
    external_account_id: str
    display_name: str | None
    api_base_url: str | None
    rate_limit_per_s: float | None
    group_messages: GroupMessages
    status: str
    status_reason: str | None
    webhook_url: str
    verify_token: str


class HealthOut(BaseModel):
    """A summary: never the provider's answer itself."""

    ok: bool
    state: Literal["ok", "not_connected", "auth", "rate_limited", "unreachable", "refused", "error"]
    detail: str
