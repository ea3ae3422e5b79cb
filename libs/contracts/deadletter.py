"""The dead-letter event: a message a consumer gave up on, kept whole so it can be replayed."""

from typing import Literal

from contracts.envelope import Event


class DeadLettered(Event):
    type: Literal["dead.lettered"] = "dead.lettered"
    source_topic: str
    consumer_group: str
    key: str | None = None
    value: str  # the original record value as text (it may not even be valid JSON)
    # The exact bytes, base64, when the key or value is not valid UTF-8: ``key``/``value`` then
    # hold a readable copy with replacement characters, and the replay sends these bytes.
    key_base64: str | None = None
    value_base64: str | None = None
    headers: dict[str, str] = {}
    error: str
    attempts: int
