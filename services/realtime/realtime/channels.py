"""Channel names a websocket client subscribes to: the tenant inbox and one per conversation."""

from dataclasses import dataclass
from uuid import UUID

INBOX = "inbox"
CONVERSATION_PREFIX = "conversation:"


@dataclass(frozen=True)
class Channel:
    name: str
    conversation_id: UUID | None  # None for the inbox


def parse_channel(name: str) -> Channel | None:
    if name == INBOX:
        return Channel(INBOX, None)
    if name.startswith(CONVERSATION_PREFIX):
        try:
            conversation_id = UUID(name.removeprefix(CONVERSATION_PREFIX))
        except ValueError:
            return None
        return Channel(conversation_name(conversation_id), conversation_id)
    return None


def conversation_name(conversation_id: UUID) -> str:
    return f"{CONVERSATION_PREFIX}{conversation_id}"


def channels_of(event_type: str, conversation_id: UUID | None) -> tuple[str, ...]:
    """The inbox shows conversation list changes; a conversation channel shows everything
    about that conversation (its messages, their status, media and reactions, and itself)."""
    names: list[str] = []
    if event_type == "conversation.updated":
        names.append(INBOX)
    if conversation_id is not None:
        names.append(conversation_name(conversation_id))
    return tuple(names)
