"""What the gateway's end-to-end histogram measures and is labelled with: pure."""

from datetime import UTC, datetime, timedelta

from contracts import topics
from contracts.realtime import ConversationUpdated, MessageCreated
from realtime.latency import age_s, labels
from tests.contracts.samples import _message_view, all_events

NOW = datetime(2026, 11, 30, 21, 0, tzinfo=UTC)


def test_the_age_is_seconds_since_the_event_happened_never_negative() -> None:
    assert age_s(NOW - timedelta(milliseconds=250), NOW) == 0.25
    # Another host's clock ahead of ours: no negative latency in the histogram.
    assert age_s(NOW + timedelta(seconds=1), NOW) == 0.0
    assert age_s(datetime(2026, 11, 30, 20, 59, 59), NOW) == 1.0  # no zone: UTC


def test_labels_are_the_event_type_and_the_message_direction() -> None:
    inbound = MessageCreated(message=_message_view(direction="inbound"))
    outbound = MessageCreated(message=_message_view(direction="outbound"))
    assert labels(inbound) == ("message.created", "inbound")
    assert labels(outbound) == ("message.created", "outbound")
    conversation = next(
        e
        for topic, e in all_events()
        if topic == topics.REALTIME and isinstance(e, ConversationUpdated)
    )
    assert labels(conversation) == ("conversation.updated", "")
