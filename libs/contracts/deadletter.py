"""The dead-letter event: a message a consumer gave up on, kept whole so it can be replayed."""

from typing import Literal

from contracts.envelope import Event


class DeadLettered(Event):
    type: Literal["dead.lettered"] = "dead.lettered"
    source_topic: str
    consumer_group: str
    key: str | None = None
    value: str  # the original record value, verbatim (it may not even be valid JSON)
    headers: dict[str, str] = {}
    error: str
    attempts: int
