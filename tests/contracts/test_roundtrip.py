"""Every contract model goes through the real broker and comes back equal."""

import asyncio
from collections import Counter

import pydantic
from aiokafka import AIOKafkaConsumer

from bus.publisher import Outgoing, Publisher
from config.shared import KafkaSettings
from contracts import topics
from contracts.codec import decode
from contracts.inbound import MessageType
from tests.contracts.samples import INBOUND_MESSAGES, all_events


def test_samples_cover_every_event_model_and_message_type() -> None:
    kinds = {type(event).__name__ for _, event in all_events()}
    assert kinds == {
        "MessageReceived",
        "StatusReported",
        "ContactSynced",
        "WebhookRecorded",
        "SendRequested",
        "MarkReadRequested",
        "MediaFetchRequested",
        "MessageCreated",
        "MessageUpdated",
        "ConversationUpdated",
        "DeadLettered",
    }
    inbound_types = {m.type for m in INBOUND_MESSAGES}
    assert inbound_types == set(MessageType)


async def test_every_event_survives_the_broker(kafka_settings: KafkaSettings) -> None:
    events = all_events()
    async with Publisher(kafka_settings) as publisher:
        await publisher.publish_many(
            [Outgoing(topic, f"key-{i}", event) for i, (topic, event) in enumerate(events)]
        )
    wanted = Counter(str(event.event_id) for _, event in events)
    by_id = {str(event.event_id): event for _, event in events}
    consumer = AIOKafkaConsumer(
        *{t for t, _ in events},
        bootstrap_servers=kafka_settings.bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    seen: dict[str, object] = {}
    headers: dict[str, dict[str, bytes]] = {}
    try:
        async with asyncio.timeout(30):
            while len(seen) < len(wanted):
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for record in records:
                        try:
                            event = decode(record.topic, record.value)
                        except pydantic.ValidationError:
                            continue  # another test's deliberately broken record
                        if str(event.event_id) in wanted:
                            seen[str(event.event_id)] = event
                            headers[str(event.event_id)] = dict(record.headers)
    finally:
        await consumer.stop()
    for event_id, original in by_id.items():
        assert seen[event_id] == original
        assert headers[event_id]["type"] == original.type.encode()  # type: ignore[attr-defined]
        if original.traceparent:
            assert headers[event_id]["traceparent"] == original.traceparent.encode()


def test_a_record_on_the_wrong_topic_is_rejected() -> None:
    import pytest

    _, event = next((t, e) for t, e in all_events() if t == topics.REALTIME)
    with pytest.raises(pydantic.ValidationError):
        decode(topics.OUTBOUND, event.model_dump_json().encode())
