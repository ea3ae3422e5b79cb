"""Outbound content → what the provider adapter is given, and what the message row is.

Pure: the ``providers.base.SendRequest`` of a send request (with the media source already
resolved by media.py), the message type a request stores, and the tenant check on media keys.
"""

from uuid import UUID

from contracts import MessageType, OutboundContent, OutboundMedia, SendRequested
from contracts.outbound import OutboundReaction, OutboundTemplate, OutboundText
from providers.base import OutboundMediaSource, SendRequest


def send_request(event: SendRequested, media: OutboundMediaSource | None) -> SendRequest:
    return SendRequest(
        to=event.to,
        content=event.content,
        reply_to_provider_message_id=event.reply_to_provider_message_id,
        media=media,
        client_message_id=event.client_message_id,
    )


def message_type(content: OutboundContent) -> MessageType:
    if isinstance(content, OutboundText):
        return MessageType.TEXT
    if isinstance(content, OutboundTemplate):
        return MessageType.TEMPLATE
    if isinstance(content, OutboundReaction):
        return MessageType.REACTION
    return MessageType(content.media_type)


def media_key_allowed(tenant_id: UUID, media: OutboundMedia) -> bool:
    """The media service stores a tenant's uploads under ``{tenant_id}/``: a key outside it is
    another tenant's object, and is never linked (a guessed key must not leak a file)."""
    key = media.media_key
    return key.startswith(f"{tenant_id}/") and ".." not in key.split("/")
