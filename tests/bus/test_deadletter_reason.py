"""Why a record was dead-lettered, as a label of a few values (the letter keeps the error)."""

import pytest

from bus.deadletter import reason_of


@pytest.mark.parametrize(
    ("error", "attempts", "reason"),
    [
        ("undecodable: 3 errors: ...", 1, "undecodable"),
        ("inbound event without tenant_id", 1, "no_tenant"),
        ("send request without tenant_id", 1, "no_tenant"),
        ("ForeignKeyViolationError('...')", 1, "rejected"),
        ("retries_exhausted: the provider answered 503", 5, "retries_exhausted"),
    ],
)
def test_a_dead_letter_reason_is_one_of_a_few(error: str, attempts: int, reason: str) -> None:
    assert reason_of(error, attempts) == reason
