"""Outbound message status and the rule that it only moves forward.

queued → sent → delivered → read → played; ``failed`` is terminal. Providers deliver
statuses late, twice and out of order, so a transition is computed, never just assigned.
The same rule is enforced in SQL by the persister (rank comparison in the UPDATE).
"""

from enum import StrEnum


class MessageStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    PLAYED = "played"
    FAILED = "failed"
    RECEIVED = "received"  # inbound messages: the customer sent it, we stored it


RANK: dict[MessageStatus, int] = {
    MessageStatus.RECEIVED: 0,
    MessageStatus.QUEUED: 0,
    MessageStatus.SENT: 1,
    MessageStatus.DELIVERED: 2,
    MessageStatus.READ: 3,
    MessageStatus.PLAYED: 4,
}


def next_status(current: MessageStatus, incoming: MessageStatus) -> MessageStatus:
    """The status after ``incoming`` arrives at a message that is ``current``.

    - ``failed`` never changes again;
    - ``failed`` overrides queued/sent, but after delivered/read the higher state is kept;
    - otherwise the higher rank wins, so a late ``delivered`` after ``read`` changes nothing.
    """
    if current is MessageStatus.FAILED:
        return current
    if incoming is MessageStatus.FAILED:
        return incoming if RANK[current] <= RANK[MessageStatus.SENT] else current
    return incoming if RANK[incoming] > RANK[current] else current
