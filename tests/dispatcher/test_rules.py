"""The dispatcher's pure rules: when to send, what a failure means, how long to wait, how fast
to go, what the sweep does, and how a batch is split."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tenacity import RetryCallState

from contracts import MessageType, OutboundMedia, OutboundReaction, OutboundTemplate, OutboundText
from dispatcher.backoff import ProviderWait, wait_for_hint
from dispatcher.content import media_key_allowed, message_type
from dispatcher.decide import Decision, MessageState, decide
from dispatcher.failures import failed_for, outcome_unknown
from dispatcher.offsets import OffsetTracker
from dispatcher.ratelimit import DEFAULT_RATE_PER_S, rate_for, shape_for
from dispatcher.requeue import (
    NotRebuildable,
    SweepAction,
    reaction_target,
    rebuild_request,
    sweep_action,
)
from providers.errors import AuthFailed, Permanent, RateLimited, Retryable, WindowClosed

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (None, Decision.MISSING),
        (MessageState("received", "wamid.1", None, "inbound"), Decision.MISSING),
        (MessageState("queued", None, None), Decision.SEND),
        # A claim standing: a call may be in flight until the claim is older than the bound.
        (MessageState("queued", None, NOW), Decision.IN_FLIGHT),
        (MessageState("queued", None, NOW, claim_age_s=299.0), Decision.IN_FLIGHT),
        (MessageState("queued", None, NOW, claim_age_s=300.0), Decision.OUTCOME_UNKNOWN),
        (MessageState("sent", "wamid.1", NOW), Decision.DONE),
        (MessageState("delivered", "wamid.1", NOW), Decision.DONE),
        (MessageState("failed", None, NOW), Decision.DONE),
        (MessageState("failed", None, None), Decision.DONE),
        # A status webhook may have set the provider id before our own write: never resend.
        (MessageState("queued", "wamid.1", None), Decision.DONE),
    ],
)
def test_a_message_is_sent_only_when_nothing_was_attempted(
    state: MessageState | None, expected: Decision
) -> None:
    assert decide(state, unknown_after_s=300) is expected


def test_the_window_error_tells_the_agent_a_template_is_needed() -> None:
    failed = failed_for(WindowClosed("(#131047) Re-engagement message", code="131047"))
    assert failed.error_code == "window_closed"
    assert "template" in failed.error_reason
    assert failed.integration_reason is None


def test_an_auth_failure_fails_the_message_and_flags_the_integration() -> None:
    failed = failed_for(AuthFailed("token expired", code="190", status=401))
    assert failed.error_code == "auth_failed"
    assert failed.integration_reason is not None and "token expired" in failed.integration_reason


def test_permanent_and_exhausted_failures_carry_the_provider_reason() -> None:
    rejected = failed_for(Permanent("number not on WhatsApp", code="131026"))
    assert rejected.error_code == "rejected"
    assert "number not on WhatsApp" in rejected.error_reason and "131026" in rejected.error_reason
    exhausted = failed_for(Retryable("HTTP 503"))
    assert exhausted.error_code == "retries_exhausted" and "HTTP 503" in exhausted.error_reason
    assert "outcome unknown" in outcome_unknown().error_reason


@given(
    hint=st.floats(min_value=0, max_value=10_000),
    backoff=st.floats(min_value=0, max_value=100),
    cap=st.floats(min_value=1, max_value=600),
)
def test_a_retry_hint_is_waited_in_full_up_to_the_cap(
    hint: float, backoff: float, cap: float
) -> None:
    wait = wait_for_hint(hint, backoff, cap)
    assert wait == min(hint, cap)
    assert wait_for_hint(None, backoff, cap) == backoff


def _state_after(exc: BaseException, attempt: int) -> RetryCallState:
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = attempt
    state.set_exception((type(exc), exc, None))
    return state


def test_the_tenacity_wait_honours_rate_limit_hints_and_backs_off_otherwise() -> None:
    wait = ProviderWait(initial_s=0.5, max_s=20, max_hint_s=60)
    assert wait(_state_after(RateLimited("429", retry_after_s=3.0), 1)) == 3.0
    assert wait(_state_after(RateLimited("429", retry_after_s=3600), 1)) == 60
    first = wait(_state_after(Retryable("500"), 1))
    fourth = wait(_state_after(Retryable("500"), 4))
    assert 0.5 <= first <= 1.0
    assert 4.0 <= fourth <= 4.5


def test_rates_default_to_the_providers_documented_throughput() -> None:
    assert DEFAULT_RATE_PER_S == {"meta": 80.0, "evolution": 20.0, "zapi": 20.0}
    assert rate_for("meta", None) == 80.0  # type: ignore[arg-type]
    assert rate_for("zapi", 5.0) == 5.0  # type: ignore[arg-type]
    assert rate_for("evolution", None, 7.0) == 7.0  # type: ignore[arg-type]


@given(rate=st.floats(min_value=0.01, max_value=10_000))
def test_a_bucket_refills_at_the_rate_and_holds_at_least_one_token(rate: float) -> None:
    shape = shape_for(rate)
    assert shape.capacity >= 1
    assert shape.capacity / shape.period_s == pytest.approx(rate)


def test_message_types_of_outbound_content() -> None:
    assert message_type(OutboundText(body="hi")) is MessageType.TEXT
    assert message_type(OutboundTemplate(name="t")) is MessageType.TEMPLATE
    assert (
        message_type(OutboundReaction(target_provider_message_id="x", emoji="👍"))
        is MessageType.REACTION
    )
    media = OutboundMedia(media_type="document", media_key="k", mime="application/pdf")
    assert message_type(media) is MessageType.DOCUMENT


def test_media_of_another_tenant_is_never_linked() -> None:
    tenant, other = uuid4(), uuid4()

    def media(key: str) -> OutboundMedia:
        return OutboundMedia(media_type="image", media_key=key, mime="image/png")

    assert media_key_allowed(tenant, media(f"{tenant}/2026/a.png"))
    assert not media_key_allowed(tenant, media(f"{other}/2026/a.png"))
    assert not media_key_allowed(tenant, media(f"{tenant}/../{other}/a.png"))
    assert not media_key_allowed(tenant, media("a.png"))


@pytest.mark.parametrize(
    ("age_s", "started_s_ago", "expected"),
    [
        (10, None, SweepAction.WAIT),
        (61, None, SweepAction.REPUBLISH),
        (901, None, SweepAction.FAIL_STUCK),
        (1000, 10, SweepAction.WAIT),
        (1000, 301, SweepAction.FAIL_UNKNOWN),
    ],
)
def test_the_sweep_republishes_then_fails_stuck_messages(
    age_s: float, started_s_ago: float | None, expected: SweepAction
) -> None:
    action = sweep_action(
        created_at=NOW - timedelta(seconds=age_s),
        send_started_at=None if started_s_ago is None else NOW - timedelta(seconds=started_s_ago),
        now=NOW,
        requeue_after_s=60,
        fail_after_s=900,
        unknown_after_s=300,
    )
    assert action is expected


def _row(content: object) -> dict[str, object]:
    return {
        "id": uuid4(),
        "conversation_id": uuid4(),
        "integration_id": uuid4(),
        "client_message_id": "c-1",
        "content": content,
        "reply_to_provider_message_id": "wamid.q",
    }


def test_a_send_request_is_rebuilt_from_the_stored_request_with_the_rows_ids() -> None:
    tenant = uuid4()
    gateway_body = {
        "client_message_id": "c-1",
        "content": {"kind": "text", "body": "olá"},
        "reply_to_message_id": None,
    }
    row = _row(gateway_body)
    request = rebuild_request(tenant_id=tenant, row=row, provider="meta", to="5511988887777")
    assert request.message_id == row["id"] and request.tenant_id == tenant
    assert request.to == "5511988887777"
    assert request.content == OutboundText(body="olá")
    assert request.reply_to_provider_message_id == "wamid.q"
    whole = {"type": "send.requested", "message_id": str(uuid4()), "to": "551100", **gateway_body}
    stale = rebuild_request(tenant_id=tenant, row=_row(whole), provider="zapi", to=None)
    assert stale.to == "551100" and stale.provider == "zapi"
    bare = rebuild_request(
        tenant_id=tenant, row=_row({"kind": "text", "body": "x"}), provider="zapi", to="55119"
    )
    assert bare.content == OutboundText(body="x")
    with pytest.raises(NotRebuildable):
        rebuild_request(tenant_id=tenant, row=_row({}), provider="meta", to="1")


def test_a_reaction_stored_with_our_message_id_is_rebuilt_with_the_providers_id() -> None:
    target = uuid4()
    stored = {
        "client_message_id": "c",
        "content": {"kind": "reaction", "message_id": str(target), "emoji": "👍"},
    }
    assert reaction_target(stored) == target
    request = rebuild_request(
        tenant_id=uuid4(),
        row=_row(stored),
        provider="meta",
        to="5511",
        target_provider_message_id="wamid.T",
    )
    assert request.content == OutboundReaction(target_provider_message_id="wamid.T", emoji="👍")
    with pytest.raises(NotRebuildable):
        rebuild_request(tenant_id=uuid4(), row=_row(stored), provider="meta", to="5511")


def test_offsets_are_committed_only_below_the_first_record_still_in_flight() -> None:
    tracker = OffsetTracker()
    for offset in range(10, 15):
        tracker.started("p0", offset)
    tracker.started("p1", 3)
    tracker.finished("p0", 11)
    tracker.finished("p0", 12)
    assert tracker.committable() == {"p0": 10, "p1": 3}  # 10 and 3 are still in flight
    tracker.committed({"p0": 10, "p1": 3})
    assert tracker.committable() == {}
    tracker.finished("p0", 10)
    assert tracker.committable() == {"p0": 13}
    tracker.finished("p0", 13)
    tracker.finished("p0", 14)
    tracker.finished("p1", 3)
    assert tracker.committable() == {"p0": 15, "p1": 4}
    assert tracker.in_flight == 0
    tracker.forget(["p0"])
    assert tracker.committable() == {"p1": 4}


@given(st.lists(st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 50)), unique=True))
def test_the_committed_position_never_passes_a_record_in_flight(
    records: list[tuple[str, int]],
) -> None:
    tracker = OffsetTracker()
    for partition, offset in records:
        tracker.started(partition, offset)
    finished = records[::2]
    for partition, offset in finished:
        tracker.finished(partition, offset)
    for partition, position in tracker.committable().items():
        pending = {o for p, o in records if p == partition} - {
            o for p, o in finished if p == partition
        }
        assert all(position <= o for o in pending)
        if not pending:
            assert position == max(o for p, o in records if p == partition) + 1
