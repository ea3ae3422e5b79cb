import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.status import RANK, MessageStatus, next_status

S = MessageStatus


@pytest.mark.parametrize(
    ("current", "incoming", "expected"),
    [
        (S.QUEUED, S.SENT, S.SENT),
        (S.SENT, S.DELIVERED, S.DELIVERED),
        (S.SENT, S.READ, S.READ),  # Meta skips delivered when both happen together
        (S.READ, S.DELIVERED, S.READ),  # a late delivered changes nothing
        (S.READ, S.SENT, S.READ),
        (S.DELIVERED, S.DELIVERED, S.DELIVERED),
        (S.QUEUED, S.FAILED, S.FAILED),
        (S.SENT, S.FAILED, S.FAILED),
        (S.DELIVERED, S.FAILED, S.DELIVERED),  # keep the higher state; the error is attached
        (S.FAILED, S.READ, S.FAILED),  # failed is terminal
        (S.READ, S.PLAYED, S.PLAYED),
    ],
)
def test_next_status(current: S, incoming: S, expected: S) -> None:
    assert next_status(current, incoming) is expected


outbound = st.sampled_from([S.QUEUED, S.SENT, S.DELIVERED, S.READ, S.PLAYED, S.FAILED])


@given(st.lists(outbound, max_size=12))
def test_status_never_moves_backwards_in_any_arrival_order(arrivals: list[S]) -> None:
    status = S.QUEUED
    for incoming in arrivals:
        after = next_status(status, incoming)
        if status is S.FAILED:
            assert after is S.FAILED
        elif after is not S.FAILED:
            assert RANK[after] >= RANK[status]
        status = after


@given(st.permutations([S.SENT, S.DELIVERED, S.READ]))
def test_any_order_of_sent_delivered_read_ends_read(order: list[S]) -> None:
    status = S.QUEUED
    for incoming in order:
        status = next_status(status, incoming)
    assert status is S.READ
