"""Whether a send request should call the provider, given the message row as stored now.

Pure. The row is the truth about earlier attempts: the request may be a redelivery (after a
crash, a rebalance or a replay) or a re-publication by the sweep.

A claim (``send_started_at``) is taken just before each provider call and released when the
call failed in a way that proves nothing was sent, so a claim standing means a call may be in
flight: in another process (a redelivery after a rebalance or a crash), or in this one. Only
its age tells a call in flight from one that will never report back: younger than
``DISPATCHER_UNKNOWN_AFTER_S`` the request waits for it (``IN_FLIGHT``, see inflight.py);
older, the outcome is unknown. Running again never decides it, the same rule as the sweep's.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

import asyncpg


class Decision(Enum):
    SEND = "send"  # nothing was attempted yet: claim it and call the provider
    DONE = "done"  # already sent, failed or further along: do nothing
    IN_FLIGHT = "in_flight"  # a claim younger than the bound stands: wait for its outcome
    OUTCOME_UNKNOWN = "outcome_unknown"  # a claim older than the bound: do not re-send
    MISSING = "missing"  # no such outbound message in this tenant


@dataclass(frozen=True)
class MessageState:
    status: str
    provider_message_id: str | None
    send_started_at: datetime | None
    direction: str = "outbound"
    # Seconds since the claim, by the database's clock (None: not read with the row).
    claim_age_s: float | None = None


def state_of(row: asyncpg.Record | Mapping[str, Any] | None) -> MessageState | None:
    if row is None:
        return None
    return MessageState(
        row["status"],
        row["provider_message_id"],
        row["send_started_at"],
        row["direction"],
        row.get("claim_age_s"),
    )


def decide(state: MessageState | None, *, unknown_after_s: float) -> Decision:
    if state is None or state.direction != "outbound":
        return Decision.MISSING
    if state.status != "queued" or state.provider_message_id is not None:
        return Decision.DONE
    if state.send_started_at is not None:
        if state.claim_age_s is not None and state.claim_age_s >= unknown_after_s:
            return Decision.OUTCOME_UNKNOWN
        return Decision.IN_FLIGHT
    return Decision.SEND
