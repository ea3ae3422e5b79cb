"""The versioned envelope every event on the wire carries.

Every event model inherits these fields; ``type`` (a literal on each model) discriminates the
union of a topic and ``version`` lets a consumer reject a shape it does not understand.
The W3C ``traceparent`` travels both here and as a Kafka header, so a dead-lettered event
replayed later keeps its trace.
"""

from datetime import UTC, datetime
from uuid import UUID, uuid4

from pydantic import Field

from contracts.common import Frozen


def new_event_id() -> UUID:
    return uuid4()


def utcnow() -> datetime:
    return datetime.now(UTC)


class Event(Frozen):
    event_id: UUID = Field(default_factory=new_event_id)
    version: int = 1
    occurred_at: datetime = Field(default_factory=utcnow)
    tenant_id: UUID | None = None
    traceparent: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"
    )
