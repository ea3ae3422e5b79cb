"""Outbound message status and the rule that it only moves forward.

queued → (unknown) → sent → delivered → read → played; ``failed`` is terminal. Providers
deliver statuses late, twice and out of order, so a transition is computed, never just assigned.

``unknown`` is "may have been sent": the provider call ended without an answer that says
either way (a read timeout after the request was written, a proxy's 502, a crash mid-call).
Such a message is never sent again automatically; it moves on when the provider reports it
(a status, or the echo of the business's own message) and fails only on a failed status.
The same rule is enforced in SQL by the persister (rank comparison in the UPDATE).
"""

from enum import StrEnum


class MessageStatus(StrEnum):
    QUEUED = "queued"
    UNKNOWN = "unknown"  # may have been sent: the provider's answer said neither way
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    PLAYED = "played"
    FAILED = "failed"
    RECEIVED = "received"  # inbound messages: the customer sent it, we stored it


RANK: dict[MessageStatus, int] = {
    MessageStatus.RECEIVED: 0,
    MessageStatus.QUEUED: 0,
    MessageStatus.UNKNOWN: 1,
    MessageStatus.SENT: 2,
    MessageStatus.DELIVERED: 3,
    MessageStatus.READ: 4,
    MessageStatus.PLAYED: 5,
}


def next_status(current: MessageStatus, incoming: MessageStatus) -> MessageStatus:
    """The status after ``incoming`` arrives at a message that is ``current``.

    - ``failed`` never changes again;
    - ``failed`` overrides queued/unknown/sent, but after delivered/read the higher state is kept;
    - otherwise the higher rank wins, so a late ``delivered`` after ``read`` changes nothing.
    """
    if current is MessageStatus.FAILED:
        return current
    if incoming is MessageStatus.FAILED:
        return incoming if RANK[current] <= RANK[MessageStatus.SENT] else current
    return incoming if RANK[incoming] > RANK[current] else current
