"""Whether a send request should call the provider, given the message row as stored now.

Pure. The row is the truth about earlier attempts: the request may be a redelivery (after a
crash, a rebalance or a replay) or a re-publication by the sweep.
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
    OUTCOME_UNKNOWN = "outcome_unknown"  # an earlier call never reported back: do not re-send
    MISSING = "missing"  # no such outbound message in this tenant


@dataclass(frozen=True)
class MessageState:
    status: str
    provider_message_id: str | None
    send_started_at: datetime | None
    direction: str = "outbound"


def state_of(row: asyncpg.Record | Mapping[str, Any] | None) -> MessageState | None:
    if row is None:
        return None
    return MessageState(
        row["status"], row["provider_message_id"], row["send_started_at"], row["direction"]
    )


def decide(state: MessageState | None) -> Decision:
    if state is None or state.direction != "outbound":
        return Decision.MISSING
    if state.status != "queued" or state.provider_message_id is not None:
        return Decision.DONE
    if state.send_started_at is not None:
        # A claim is released when an attempt fails in a known way (see send.py), so a claim
        # still standing means the process died between claiming and recording the outcome.
        return Decision.OUTCOME_UNKNOWN
    return Decision.SEND
