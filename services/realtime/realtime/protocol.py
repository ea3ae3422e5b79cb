"""The websocket protocol's vocabulary, shared by the session state machine (``session``) and
its shell (``ws``): the close codes, the I/O a session asks for (``Action``), what it hands out
to write (``Outgoing``), its limits and its states. docs/websocket-protocol.md is the wire
protocol."""

from dataclasses import dataclass
from enum import Enum

from realtime.channels import Channel


class CloseCode:
    """Websocket close codes the gateway uses (documented in docs/websocket-protocol.md)."""

    NORMAL = 1000
    GOING_AWAY = 1001  # the gateway is shutting down: reconnect and resume
    POLICY = 1008  # Origin not allowed (refused before the handshake completes)
    TOO_BIG = 1009  # a client frame exceeded the maximum frame size
    INTERNAL = 1011
    UNAUTHENTICATED = 4001  # no valid token in time, token rejected, or not a member
    TOKEN_EXPIRED = 4401  # the session's token expired: authenticate again (a new connection)
    NOT_A_MEMBER = 4403  # the user was removed from the tenant while connected
    PROTOCOL = 4400  # malformed frame, unknown type, frame out of place
    SLOW_CONSUMER = 4008  # the send queue overflowed: reconnect and resume from your cursors
    RATE_LIMITED = 4029  # too many client frames


@dataclass(frozen=True)
class Close:
    code: int
    reason: str


Outgoing = str | Close


@dataclass(frozen=True)
class Authenticate:
    token: str


@dataclass(frozen=True)
class Reauthenticate:
    """A fresh token sent on an open session, to extend it past the current one's expiry."""

    token: str


@dataclass(frozen=True)
class Subscribe:
    channel: Channel
    after: int | None


Action = Authenticate | Reauthenticate | Subscribe


@dataclass(frozen=True)
class Limits:
    max_queue: int = 1000  # frames waiting to be written, replay and buffered live included
    max_replay: int = 500  # events replayed per subscription before the client must reload
    max_channels: int = 200
    frames_per_s: float = 10.0
    frames_burst: int = 30
    auth_timeout_s: float = 5.0


class State(Enum):
    AWAITING_AUTH = "awaiting_auth"
    AUTHENTICATING = "authenticating"
    OPEN = "open"
    CLOSED = "closed"
