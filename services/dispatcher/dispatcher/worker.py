"""The outbound topic's consumer, thin: each record goes to the send or mark-read pipeline.

Ordering, concurrency and commits are the lanes' business (lanes.py): records of one
conversation arrive here one at a time and in order; conversations run side by side.
"""

import structlog
from opentelemetry.trace import SpanKind

from bus import tracecontext
from bus.consumer import Received
from bus.publisher import Publisher
from bus.tracecontext import event_attributes
from config.shared import KafkaSettings
from contracts import MarkReadRequested, SendRequested, topics
from dispatcher.deps import Deps
from dispatcher.lanes import LaneConsumer, LaneOptions
from dispatcher.markread import handle_mark_read
from dispatcher.send import handle_send
from dispatcher.settings import DispatcherSettings
from telemetry import tracing
from telemetry.trace import trace_id


async def handle_record(deps: Deps, received: Received) -> None:
    event = received.event
    structlog.contextvars.bind_contextvars(trace_id=trace_id(event.traceparent))
    if tracing.active:
        # The record's span is current while it is handled (its lane's task), so the provider
        # call and the events recorded are under it (``tracing.child``).
        with tracing.span(
            "dispatcher process",
            parent=tracecontext.parent_of(received.headers, event) or "",
            kind=SpanKind.CONSUMER,
            attributes={"messaging.destination.name": received.topic, **event_attributes(event)},
        ):
            await _handle(deps, received, event)
        return
    await _handle(deps, received, event)


async def _handle(deps: Deps, received: Received, event: object) -> None:
    if isinstance(event, SendRequested):
        await handle_send(deps, received, event)
    elif isinstance(event, MarkReadRequested):
        await handle_mark_read(deps, received, event)


def outbound_consumer(
    deps: Deps, kafka: KafkaSettings, publisher: Publisher, settings: DispatcherSettings
) -> LaneConsumer:
    async def handle(received: Received) -> None:
        await handle_record(deps, received)

    return LaneConsumer(
        kafka,
        topics.OUTBOUND,
        handle,
        publisher,
        LaneOptions(
            group_id=settings.group_id,
            max_in_flight=settings.max_in_flight,
            max_records=settings.max_records,
            extra={
                "session_timeout_ms": settings.session_timeout_ms,
                "heartbeat_interval_ms": settings.heartbeat_interval_ms,
            },
        ),
    )
