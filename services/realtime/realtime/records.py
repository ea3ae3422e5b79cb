"""What the hub reads from the realtime topic: its partitions, a record decoded into the frame
subscribers get, and (tracing on) the span a record's delivery runs under. No hub state."""

import contextlib
import dataclasses
from collections.abc import Iterator

import structlog
from aiokafka import AIOKafkaClient, ConsumerRecord, TopicPartition
from opentelemetry.trace import SpanKind
from pydantic import ValidationError

from bus import tracecontext
from config.shared import KafkaSettings
from contracts import topics
from contracts.codec import decode
from contracts.realtime import ConversationUpdated, RealtimeEvent
from realtime.feed import FeedEvent, feed_event, traced_frame
from telemetry import tracing

log = structlog.get_logger(__name__)


async def partitions(kafka: KafkaSettings, topic: str) -> list[TopicPartition]:
    """Every partition of ``topic``, from the broker's metadata."""
    client = AIOKafkaClient(bootstrap_servers=kafka.bootstrap, client_id=kafka.client_id)
    try:
        await client.bootstrap()
        found = (await client.fetch_all_metadata()).partitions_for_topic(topic)
    finally:
        await client.close()
    if not found:
        raise RuntimeError(f"topic {topic} does not exist: run `omni topics`")
    return [TopicPartition(topic, p) for p in sorted(found)]


def decoded(value: bytes) -> tuple[FeedEvent, RealtimeEvent] | None:
    """The record's frame for subscribers, and the event itself; None (logged) when it is not
    a realtime event with a tenant and a cursor."""
    try:
        event = decode(topics.REALTIME, value)
    except ValidationError:
        log.warning("undecodable realtime record skipped")
        return None
    if event.tenant_id is None or event.cursor is None:
        log.warning("realtime record without tenant or cursor skipped", type=event.type)
        return None
    conversation_id = (
        event.conversation.id
        if isinstance(event, ConversationUpdated)
        else event.message.conversation_id
    )
    feed = feed_event(event.tenant_id, event.cursor, event.type, conversation_id, value.decode())
    return feed, event


@contextlib.contextmanager
def delivery_span(
    record: ConsumerRecord, feed: FeedEvent, event: RealtimeEvent
) -> Iterator[FeedEvent]:
    """A CONSUMER span continuing the record's trace (its header), around the delivery of the
    event it yields: the same, with a frame that carries the span's traceparent to the
    websocket writers."""
    headers = {k: v.decode(errors="replace") for k, v in (record.headers or ())}
    attributes = tracecontext.event_attributes(event)
    with tracing.span(
        f"{topics.REALTIME} deliver",
        parent=tracecontext.parent_of(headers, event) or "",
        kind=SpanKind.CONSUMER,
        attributes=attributes,
    ) as span:
        frame = traced_frame(feed.frame, tracing.traceparent_of(span), attributes)
        yield dataclasses.replace(feed, frame=frame)
