"""End-to-end latency as the gateway sees it: from the moment an event says it happened to the
moment its frame is handed to the websocket connections subscribed to it.

For a message that came in through a webhook, that moment is the webhook's receipt: ingest-api
stamps ``received_at`` on the event it publishes and the persister gives the realtime event the
same ``occurred_at``. So ``type="message.created", direction="inbound"`` is webhook received →
frame queued, across every process and hop between. Labels are the event's type and the
message's direction: a handful of values, whatever the traffic.
"""

from datetime import UTC, datetime

from prometheus_client import Histogram

from contracts.realtime import ConversationUpdated, RealtimeEvent

EVENT_TO_FRAME = Histogram(
    "gateway_event_to_frame_seconds",
    "From an event's occurred_at (a webhook's receipt, for inbound messages) to its frame "
    "queued for the websocket connections subscribed to it",
    ["type", "direction"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60),
)


def age_s(occurred_at: datetime, now: datetime) -> float:
    """Seconds since ``occurred_at``; never negative (clocks of two hosts may disagree). An
    event without a zone (a producer outside this code) is taken as UTC, never an error."""
    if occurred_at.tzinfo is None:
        occurred_at = occurred_at.replace(tzinfo=UTC)
    return max(0.0, (now - occurred_at).total_seconds())


def labels(event: RealtimeEvent) -> tuple[str, str]:
    direction = "" if isinstance(event, ConversationUpdated) else event.message.direction
    return event.type, direction


def observe(event: RealtimeEvent, now: datetime) -> None:
    EVENT_TO_FRAME.labels(*labels(event)).observe(age_s(event.occurred_at, now))
