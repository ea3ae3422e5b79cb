"""Tenant events as the gateway fans them out: serialized once, routed by channel, and the
ordering rule that turns an out-of-order, lossy topic into a gapless cursor sequence."""

from dataclasses import dataclass
from enum import Enum
from uuid import UUID

from realtime.channels import channels_of
from realtime.wire import SharedFrame


@dataclass(frozen=True)
class FeedEvent:
    tenant_id: UUID
    cursor: int
    type: str
    conversation_id: UUID | None
    # The whole websocket frame, built once and sent as-is to every subscriber (as text, or
    # as its encoded bytes: ``realtime.wire``).
    frame: str
    # Computed once here, not per subscriber: every connection of the tenant reads it.
    channels: tuple[str, ...]


class TracedFrame(str):
    """A frame that carries the trace of its event (tracing on only): the websocket writer
    sends it under a span of that trace. A ``str`` still, so the pure session moves it as any
    other frame."""

    traceparent: str
    attributes: dict[str, str]


def traced_frame(frame: str, traceparent: str, attributes: dict[str, str]) -> TracedFrame:
    traced = TracedFrame(frame)
    traced.traceparent = traceparent
    traced.attributes = attributes
    return traced


def build_frame(cursor: int, event_json: str) -> str:
    """``event_json`` is the event exactly as produced (topic value or stored payload)."""
    return f'{{"type":"event","cursor":{cursor},"event":{event_json}}}'


def feed_event(
    tenant_id: UUID, cursor: int, type_: str, conversation_id: UUID | None, event_json: str
) -> FeedEvent:
    frame = SharedFrame(build_frame(cursor, event_json))
    return FeedEvent(
        tenant_id, cursor, type_, conversation_id, frame, channels_of(type_, conversation_id)
    )


class Admission(Enum):
    SKIP = "skip"  # already dispatched (duplicate, or filled from Postgres earlier)
    DISPATCH = "dispatch"  # the next expected cursor
    FILL_GAP = "fill_gap"  # cursors before it are missing: read them from Postgres first


def admit(next_expected: int, cursor: int) -> Admission:
    """Producers publish after commit, so the topic may carry cursors out of order or not at
    all (a crash between commit and publish). Cursors commit in order, so once cursor N is
    seen, every cursor below N is readable from realtime_events."""
    if cursor < next_expected:
        return Admission.SKIP
    if cursor == next_expected:
        return Admission.DISPATCH
    return Admission.FILL_GAP
