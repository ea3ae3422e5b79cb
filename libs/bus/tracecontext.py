"""How a trace crosses Kafka: in the record's W3C ``traceparent`` header.

Publishing an event is a PRODUCER span under the event's own ``traceparent`` field (the unit
of work that made it: a webhook, a persisted batch record, an agent's request); the span's
context replaces the field's in the header, so the consumer's span is the publish's child, as
OpenTelemetry's messaging conventions draw it. The field itself is left as it was encoded: it is
what the event's producer did, and it is stored with realtime events for replay. Consumers take
their parent from the header (the field when a record has none: one written before tracing, or
by a tool that only copies values). With tracing off, the header is the field, as before.

The spans carry the message they are about (``omni.message_id``, our id, and
``omni.provider_message_id``), which ``omni trace MESSAGE_ID`` looks for.
"""

from collections.abc import Sequence
from typing import Any

from opentelemetry.trace import Span, SpanKind

from telemetry import tracing

Headers = list[tuple[str, bytes]]


def event_attributes(event: Any) -> dict[str, str]:
    """What names the message an event is about, from whichever of the contract's shapes it
    has (``message_id``, ``message.id``, ``message.provider_message_id``, a status report's
    first ``provider_message_ids``)."""
    attributes = {"omni.event_type": str(getattr(event, "type", type(event).__name__))}
    message_id = getattr(event, "message_id", None)
    message = getattr(event, "message", None)
    if message_id is None and message is not None:
        message_id = getattr(message, "id", None)
    if message_id is not None:
        attributes["omni.message_id"] = str(message_id)
    provider_id = getattr(message if message is not None else event, "provider_message_id", None)
    if provider_id is None:  # a status report names the messages it is about
        provider_id = next(iter(getattr(event, "provider_message_ids", ()) or ()), None)
    if provider_id:
        attributes["omni.provider_message_id"] = str(provider_id)
    tenant_id = getattr(event, "tenant_id", None)
    if tenant_id is not None:
        attributes["omni.tenant_id"] = str(tenant_id)
    return attributes


def publish_span(topic: str, event: Any, headers: Headers) -> tuple[Span, Headers]:
    """The PRODUCER span of publishing ``event`` (the caller ends it once the broker has
    acknowledged), and ``headers`` with its traceparent."""
    span = tracing.start(
        f"{topic} publish",
        parent=event.traceparent or "",
        kind=SpanKind.PRODUCER,
        attributes={"messaging.destination.name": topic, **event_attributes(event)},
    )
    traced = [h for h in headers if h[0] != "traceparent"]
    traced.append(("traceparent", tracing.traceparent_of(span).encode()))
    return span, traced


def parent_of(headers: dict[str, str], event: Any) -> str | None:
    """A consumed record's parent: its header, else its event's field."""
    return headers.get("traceparent") or getattr(event, "traceparent", None)


def handling(name: str, records: Sequence[Any]) -> tracing.Handling:
    """A CONSUMER span per decoded record (``bus.consumer.Received``) of a batch."""
    return tracing.Handling(
        name,
        [
            (
                parent_of(r.headers, r.event),
                {"messaging.destination.name": r.topic, **event_attributes(r.event)},
            )
            for r in records
        ],
    )
