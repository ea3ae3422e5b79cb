"""The websocket session as a pure state machine: auth, subscriptions, resume, slow consumers."""

import json
from uuid import UUID, uuid4

from hypothesis import given
from hypothesis import strategies as st

from realtime.channels import conversation_name, parse_channel
from realtime.feed import Admission, FeedEvent, admit, feed_event
from realtime.protocol import (
    Authenticate,
    Close,
    CloseCode,
    Limits,
    Reauthenticate,
    State,
    Subscribe,
)
from realtime.ratelimit import TokenBucket
from realtime.session import Session

TENANT = UUID(int=1)
CONV = UUID(int=2)
OTHER = UUID(int=3)


def frames(session: Session) -> list[dict | Close]:  # type: ignore[type-arg]
    return [f if isinstance(f, Close) else json.loads(f) for f in session.frames_to_send(10_000)]


def msg(cursor: int, conversation_id: UUID = CONV) -> FeedEvent:
    return feed_event(TENANT, cursor, "message.created", conversation_id, f'{{"n":{cursor}}}')


def conv(cursor: int, conversation_id: UUID = CONV) -> FeedEvent:
    return feed_event(TENANT, cursor, "conversation.updated", conversation_id, f'{{"c":{cursor}}}')


def open_session(limits: Limits | None = None, cursor: int = 10) -> Session:
    s = Session(limits or Limits(), now=0.0)
    assert s.receive('{"type":"auth","token":"t"}', now=0.0) == [Authenticate("t")]
    s.authenticated(
        tenant_id=TENANT,
        user_id="agent-1",
        role="agent",
        cursor=cursor,
        token_deadline=1e9,
        expires_at=2_000_000_000,
    )
    frames(s)
    return s


def subscribe(s: Session, channel: str, after: int | None = None) -> Subscribe:
    actions = s.receive(
        json.dumps({"type": "subscribe", "channel": channel, "after": after}), now=0
    )
    assert len(actions) == 1 and isinstance(actions[0], Subscribe)
    return actions[0]


def cursors(out: list) -> list[int]:  # type: ignore[type-arg]
    return [f["cursor"] for f in out if isinstance(f, dict) and f["type"] == "event"]


# -- auth ---------------------------------------------------------------------------------------


def test_first_frame_must_be_auth() -> None:
    s = Session(Limits(), now=0.0)
    assert s.receive('{"type":"subscribe","channel":"inbox"}', now=0.0) == []
    assert frames(s) == [
        Close(CloseCode.UNAUTHENTICATED, "the first frame must be auth with a token")
    ]
    assert s.state is State.CLOSED


def test_auth_success_sends_ready_with_the_watermark() -> None:
    s = Session(Limits(), now=0.0)
    s.receive('{"type":"auth","token":"abc"}', now=0.0)
    assert s.state is State.AUTHENTICATING
    s.authenticated(
        tenant_id=TENANT,
        user_id="u",
        role="agent",
        cursor=42,
        token_deadline=3600.0,
        expires_at=1_800_000_000,
    )
    [ready] = frames(s)
    assert ready == {
        "type": "ready",
        "tenant_id": str(TENANT),
        "user_id": "u",
        "role": "agent",
        "cursor": 42,
        "expires_at": 1_800_000_000,
    }


def test_rejected_token_closes_with_4001() -> None:
    s = Session(Limits(), now=0.0)
    s.receive('{"type":"auth","token":"abc"}', now=0.0)
    s.auth_failed("token rejected: Signature verification failed")
    [close] = frames(s)
    assert isinstance(close, Close) and close.code == CloseCode.UNAUTHENTICATED


def test_no_auth_before_the_deadline_closes() -> None:
    s = Session(Limits(auth_timeout_s=5), now=100.0)
    assert s.next_deadline() == 105.0
    s.check_deadlines(104.9)  # a timer that fired early: nothing is due yet
    assert s.state is State.AWAITING_AUTH
    s.check_deadlines(105.0)
    assert frames(s) == [Close(CloseCode.UNAUTHENTICATED, "authentication timeout")]


def test_deadline_does_not_touch_an_authenticated_session() -> None:
    s = open_session()
    s.check_deadlines(1e8)
    assert s.state is State.OPEN


def test_frames_while_authenticating_are_a_protocol_error() -> None:
    s = Session(Limits(), now=0.0)
    s.receive('{"type":"auth","token":"abc"}', now=0.0)
    s.receive('{"type":"subscribe","channel":"inbox"}', now=0.0)
    assert frames(s)[-1] == Close(CloseCode.PROTOCOL, "wait for ready before sending frames")


def test_malformed_json_is_a_protocol_error() -> None:
    s = open_session()
    s.receive(b"\xff not json", now=0.0)
    [close] = frames(s)
    assert isinstance(close, Close) and close.code == CloseCode.PROTOCOL


# -- subscriptions --------------------------------------------------------------------------------


def test_invalid_channel_is_an_error_frame_not_a_close() -> None:
    s = open_session()
    assert s.receive('{"type":"subscribe","channel":"conversation:nope"}', now=0) == []
    [err] = frames(s)
    assert err["type"] == "error" and err["code"] == "invalid_channel"  # type: ignore[index]
    assert s.state is State.OPEN


def test_refused_subscription_reads_like_a_missing_conversation() -> None:
    s = open_session()
    action = subscribe(s, conversation_name(OTHER))
    s.subscribe_refused(action.channel, "not_found", "no such conversation")
    [err] = frames(s)
    assert err == {
        "type": "error",
        "code": "not_found",
        "message": "no such conversation",
        "channel": conversation_name(OTHER),
    }
    s.deliver(msg(11, OTHER))
    assert frames(s) == []


def test_only_subscribed_channels_receive_events() -> None:
    s = open_session()
    s.live_from(subscribe(s, "inbox").channel, 10)
    frames(s)
    s.deliver(msg(11))  # a message: conversation channel only
    s.deliver(conv(12))  # conversation change: inbox
    assert cursors(frames(s)) == [12]


def test_event_matching_two_live_channels_is_sent_once() -> None:
    s = open_session()
    s.live_from(subscribe(s, "inbox").channel, 10)
    s.live_from(subscribe(s, conversation_name(CONV)).channel, 10)
    frames(s)
    s.deliver(conv(11))
    assert cursors(frames(s)) == [11]


def test_unsubscribe_stops_delivery() -> None:
    s = open_session()
    s.live_from(subscribe(s, "inbox").channel, 10)
    s.receive('{"type":"unsubscribe","channel":"inbox"}', now=0)
    frames(s)
    s.deliver(conv(11))
    assert frames(s) == []


def test_duplicate_subscription_is_refused() -> None:
    s = open_session()
    subscribe(s, "inbox")
    assert s.receive('{"type":"subscribe","channel":"inbox"}', now=0) == []
    assert frames(s)[-1]["code"] == "already_subscribed"  # type: ignore[index]


# -- resume ---------------------------------------------------------------------------------------


def test_replay_then_buffered_live_without_gap_or_duplicate() -> None:
    s = open_session()
    channel = subscribe(s, conversation_name(CONV), after=3).channel
    # Live events arrive while the replay is read; some overlap with it.
    s.deliver(msg(9))
    s.deliver(msg(11))
    s.deliver(msg(12))
    s.replayed(channel, [msg(c) for c in range(4, 11)], upto=10, complete=True)
    out = frames(s)
    assert out[0] == {"type": "subscribed", "channel": channel.name, "cursor": 10}
    assert cursors(out) == list(range(4, 13))
    s.deliver(msg(12))  # the topic redelivers
    s.deliver(msg(13))
    assert cursors(frames(s)) == [13]
    assert s.cursor_of(channel.name) == 13


def test_too_far_behind_is_told_to_reload_and_goes_live() -> None:
    s = open_session()
    channel = subscribe(s, "inbox", after=1).channel
    s.replayed(channel, [], upto=5000, complete=False)
    out = frames(s)
    assert out[0] == {"type": "reset", "channel": "inbox", "cursor": 5000}
    s.deliver(conv(4999))
    s.deliver(conv(5001))
    assert cursors(frames(s)) == [5001]


def test_gateway_reset_moves_every_live_channel() -> None:
    s = open_session()
    s.live_from(subscribe(s, "inbox").channel, 10)
    frames(s)
    s.reset(500)
    assert frames(s) == [{"type": "reset", "channel": "inbox", "cursor": 500}]
    s.deliver(conv(400))
    assert frames(s) == []


# -- slow consumer and rate limit -----------------------------------------------------------------


def test_queue_overflow_closes_with_4008_and_drops_the_backlog() -> None:
    s = open_session(Limits(max_queue=5))
    s.live_from(subscribe(s, conversation_name(CONV)).channel, 10)
    for c in range(11, 30):
        s.deliver(msg(c))
    assert s.queued <= 6 and s.peak_queue == 6
    assert s.state is State.CLOSED
    assert frames(s) == [Close(CloseCode.SLOW_CONSUMER, "send queue full: reconnect and resume")]
    s.deliver(msg(31))
    assert frames(s) == []


def test_a_client_that_keeps_reading_is_never_closed() -> None:
    s = open_session(Limits(max_queue=5))
    s.live_from(subscribe(s, conversation_name(CONV)).channel, 10)
    for c in range(11, 1000):
        s.deliver(msg(c))
        assert cursors(frames(s)) == [c]
    assert s.state is State.OPEN


def test_events_buffered_during_replay_count_toward_the_bound() -> None:
    s = open_session(Limits(max_queue=3))
    subscribe(s, conversation_name(CONV), after=1)
    for c in range(11, 16):
        s.deliver(msg(c))
    assert s.close_code == CloseCode.SLOW_CONSUMER


def test_frame_flood_closes_with_4029() -> None:
    s = open_session(Limits(frames_per_s=1, frames_burst=3))
    for _ in range(3):
        s.receive('{"type":"unsubscribe","channel":"inbox"}', now=0.0)
    s.receive('{"type":"unsubscribe","channel":"inbox"}', now=0.0)
    assert s.close_code == CloseCode.RATE_LIMITED


def test_token_bucket_refills_with_time() -> None:
    bucket = TokenBucket(2.0, 2, now=0.0)
    assert [bucket.take(0.0) for _ in range(3)] == [True, True, False]
    assert bucket.take(0.5) and not bucket.take(0.5)


# -- feed ordering --------------------------------------------------------------------------------


def test_admit_skips_seen_dispatches_next_and_fills_gaps() -> None:
    assert admit(10, 9) is Admission.SKIP
    assert admit(10, 10) is Admission.DISPATCH
    assert admit(10, 12) is Admission.FILL_GAP


def test_frame_is_built_once_and_is_valid_json() -> None:
    event = feed_event(TENANT, 7, "message.created", CONV, '{"type":"message.created"}')
    assert json.loads(event.frame) == {
        "type": "event",
        "cursor": 7,
        "event": {"type": "message.created"},
    }
    assert event.channels == (conversation_name(CONV),)


def test_channel_names() -> None:
    assert parse_channel("inbox") is not None
    c = parse_channel(f"conversation:{CONV}")
    assert c is not None and c.conversation_id == CONV
    assert parse_channel(f"conversation:{uuid4()}x") is None
    assert parse_channel("other") is None


@given(
    n=st.integers(1, 60),
    data=st.data(),
)
def test_resume_never_gaps_or_repeats_whatever_the_interleaving(
    n: int, data: st.DataObject
) -> None:
    """Live events reach a subscription while its replay is read: any overlap between the two
    (as the hub can produce it) yields every cursor after ``after`` exactly once, in order."""
    upto = data.draw(st.integers(0, n), label="watermark")
    after = data.draw(st.integers(0, upto), label="after")
    live_from = data.draw(st.integers(1, upto + 1), label="first live cursor while pending")
    pending_until = data.draw(st.integers(live_from - 1, n), label="last live cursor while pending")
    s = open_session(Limits(max_queue=10_000))
    channel = subscribe(s, conversation_name(CONV), after=after).channel
    for c in range(live_from, pending_until + 1):
        s.deliver(msg(c))
    s.replayed(channel, [msg(c) for c in range(after + 1, upto + 1)], upto=upto, complete=True)
    for c in range(max(live_from, pending_until + 1), n + 1):
        s.deliver(msg(c))
    # The topic may also redeliver anything.
    for c in data.draw(st.lists(st.integers(1, n), max_size=5), label="redelivered"):
        s.deliver(msg(c))
    assert cursors(frames(s)) == list(range(after + 1, n + 1))


# -- token expiry, fresh tokens, membership -------------------------------------------------------


def test_the_session_ends_at_its_tokens_expiry_with_4401() -> None:
    s = open_session()
    s.token_deadline = 50.0
    assert s.next_deadline() == 50.0
    s.check_deadlines(49.99)
    assert s.state is State.OPEN
    s.check_deadlines(50.0)
    assert frames(s) == [Close(CloseCode.TOKEN_EXPIRED, "token expired: authenticate again")]
    assert s.next_deadline() is None


def test_a_fresh_token_of_the_same_user_extends_the_session() -> None:
    s = open_session()
    s.token_deadline = 50.0
    assert s.receive('{"type":"auth","token":"fresh"}', now=10.0) == [Reauthenticate("fresh")]
    s.reauthenticated(
        tenant_id=TENANT, user_id="agent-1", token_deadline=3650.0, expires_at=1_800_003_600
    )
    assert frames(s) == [{"type": "reauthenticated", "expires_at": 1_800_003_600}]
    s.check_deadlines(60.0)
    assert s.state is State.OPEN and s.next_deadline() == 3650.0


def test_a_fresh_token_of_another_user_closes_the_session() -> None:
    s = open_session()
    s.receive('{"type":"auth","token":"other"}', now=1.0)
    s.reauthenticated(tenant_id=TENANT, user_id="agent-2", token_deadline=99.0, expires_at=1)
    [close] = frames(s)
    assert isinstance(close, Close) and close.code == CloseCode.UNAUTHENTICATED


def test_a_refused_fresh_token_closes_and_an_empty_one_is_a_protocol_error() -> None:
    s = open_session()
    s.receive('{"type":"auth","token":"bad"}', now=1.0)
    s.auth_failed("token rejected: expired")
    assert [f.code for f in frames(s) if isinstance(f, Close)] == [CloseCode.UNAUTHENTICATED]
    s = open_session()
    assert s.receive('{"type":"auth"}', now=1.0) == []
    assert [f.code for f in frames(s) if isinstance(f, Close)] == [CloseCode.PROTOCOL]


def test_removal_from_the_tenant_closes_with_4403() -> None:
    s = open_session()
    s.membership_revoked()
    assert frames(s) == [Close(CloseCode.NOT_A_MEMBER, "no longer a member of this tenant")]
