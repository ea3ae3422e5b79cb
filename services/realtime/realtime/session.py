"""One websocket connection's protocol, as a pure state machine (no sockets, no asyncio).

The shell feeds it client frames (``receive``) and tenant events (``deliver``), performs the
I/O it asks for (``Authenticate``, ``Subscribe``) and reports back (``authenticated``,
``replayed``, ...), then writes whatever ``frames_to_send`` hands out. Auth state,
subscriptions, per-channel resume cursors, the rate limit and the slow-consumer rule all live
here, so they are tested synchronously. The wire protocol is in docs/websocket-protocol.md.
"""

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import orjson

from realtime.channels import INBOX, Channel, parse_channel
from realtime.feed import FeedEvent
from realtime.protocol import (
    Action,
    Authenticate,
    Close,
    CloseCode,
    Limits,
    Outgoing,
    Reauthenticate,
    State,
    Subscribe,
)
from realtime.ratelimit import TokenBucket
from realtime.wire import SharedFrame


@dataclass
class _Subscription:
    last: int = 0  # highest cursor delivered on this channel
    # Live events that arrived while the replay was being read; None once the channel is live.
    pending: list[FeedEvent] | None = field(default_factory=list)


def _frame(**fields: Any) -> str:
    return orjson.dumps(fields).decode()


class Session:
    def __init__(self, limits: Limits, *, now: float) -> None:
        self.limits = limits
        self.state = State.AWAITING_AUTH
        self.tenant_id: UUID | None = None
        self.user_id: str | None = None
        self.close_code: int | None = None
        self.peak_queue = 0
        self.auth_deadline = now + limits.auth_timeout_s
        self.token_deadline: float | None = None  # when the token expires, on the same clock
        self._queue: deque[Outgoing] = deque()
        self._subs: dict[str, _Subscription] = {}
        self._pending_count = 0
        self._bucket = TokenBucket(limits.frames_per_s, limits.frames_burst, now=now)

    # -- client frames ------------------------------------------------------------------------

    def receive(self, data: str | bytes, *, now: float) -> list[Action]:
        if self.state is State.CLOSED:
            return []
        if not self._bucket.take(now):
            self.close(CloseCode.RATE_LIMITED, "too many frames")
            return []
        try:
            frame = orjson.loads(data)
        except orjson.JSONDecodeError:
            self.close(CloseCode.PROTOCOL, "frames are JSON objects")
            return []
        kind = frame.get("type") if isinstance(frame, dict) else None
        if self.state is State.AWAITING_AUTH:
            token = frame.get("token") if isinstance(frame, dict) else None
            if kind != "auth" or not isinstance(token, str) or not token:
                self.close(CloseCode.UNAUTHENTICATED, "the first frame must be auth with a token")
                return []
            self.state = State.AUTHENTICATING
            return [Authenticate(token)]
        if self.state is State.AUTHENTICATING:
            self.close(CloseCode.PROTOCOL, "wait for ready before sending frames")
            return []
        assert isinstance(frame, dict)
        if kind == "auth":
            token = frame.get("token")
            if not isinstance(token, str) or not token:
                self.close(CloseCode.PROTOCOL, "auth carries a token")
                return []
            return [Reauthenticate(token)]
        if kind == "subscribe":
            return self._subscribe(frame)
        if kind == "unsubscribe":
            self._unsubscribe(frame)
            return []
        self.close(CloseCode.PROTOCOL, f"unknown frame type {kind!r}")
        return []

    def _subscribe(self, frame: dict[str, Any]) -> list[Action]:
        name, after = frame.get("channel"), frame.get("after")
        channel = parse_channel(name) if isinstance(name, str) else None
        if channel is None:
            self._error("invalid_channel", "channel is 'inbox' or 'conversation:<uuid>'", name)
            return []
        if after is not None and (not isinstance(after, int) or isinstance(after, bool)):
            self._error("invalid_cursor", "after is an integer cursor or null", name)
            return []
        if channel.name in self._subs:
            self._error("already_subscribed", "already subscribed to this channel", name)
            return []
        if len(self._subs) >= self.limits.max_channels:
            self._error("too_many_channels", "unsubscribe from a channel first", name)
            return []
        self._subs[channel.name] = _Subscription(last=after or 0)
        return [Subscribe(channel, after)]

    def _unsubscribe(self, frame: dict[str, Any]) -> None:
        sub = self._subs.pop(str(frame.get("channel")), None)
        if sub is not None and sub.pending is not None:
            self._pending_count -= len(sub.pending)
        self._push(_frame(type="unsubscribed", channel=frame.get("channel")))

    # -- results of the shell's I/O -----------------------------------------------------------

    def authenticated(
        self,
        *,
        tenant_id: UUID,
        user_id: str,
        role: str,
        cursor: int,
        token_deadline: float,
        expires_at: int,
    ) -> None:
        """The first token checked out; the session lasts until ``token_deadline`` (this
        session's clock) unless a fresh token extends it. ``expires_at`` is the token's
        ``exp``, told to the client."""
        if self.state is not State.AUTHENTICATING:
            return
        self.state = State.OPEN
        self.tenant_id, self.user_id = tenant_id, user_id
        self.token_deadline = token_deadline
        self._push(
            _frame(
                type="ready",
                tenant_id=str(tenant_id),
                user_id=user_id,
                role=role,
                cursor=cursor,
                expires_at=expires_at,
            )
        )

    def reauthenticated(
        self, *, tenant_id: UUID, user_id: str, token_deadline: float, expires_at: int
    ) -> None:
        """A fresh token passed the same checks as the first: it must be the same user of the
        same tenant (subscriptions and cursors belong to them), else the session closes."""
        if self.state is not State.OPEN:
            return
        if (tenant_id, user_id) != (self.tenant_id, self.user_id):
            self.close(CloseCode.UNAUTHENTICATED, "the new token is for another user or tenant")
            return
        self.token_deadline = max(self.token_deadline or 0.0, token_deadline)
        self._push(_frame(type="reauthenticated", expires_at=expires_at))

    def auth_failed(self, reason: str) -> None:
        self.close(CloseCode.UNAUTHENTICATED, reason)

    def membership_revoked(self) -> None:
        self.close(CloseCode.NOT_A_MEMBER, "no longer a member of this tenant")

    def next_deadline(self) -> float | None:
        """When ``check_deadlines`` next has something to do (None: never again)."""
        if self.state in (State.AWAITING_AUTH, State.AUTHENTICATING):
            return self.auth_deadline
        if self.state is State.OPEN:
            return self.token_deadline
        return None

    def check_deadlines(self, now: float) -> None:
        """Close a session whose auth frame did not come (or check out) in time, or whose
        token has expired. A caller woken early simply finds nothing due and asks again."""
        if self.state in (State.AWAITING_AUTH, State.AUTHENTICATING) and now >= self.auth_deadline:
            self.close(CloseCode.UNAUTHENTICATED, "authentication timeout")
        elif self.state is State.OPEN and now >= (self.token_deadline or float("inf")):
            self.close(CloseCode.TOKEN_EXPIRED, "token expired: authenticate again")

    def subscribe_refused(self, channel: Channel, code: str, message: str) -> None:
        """Another tenant's conversation is refused exactly like a missing one (``not_found``)."""
        sub = self._subs.pop(channel.name, None)
        if sub is not None and sub.pending is not None:
            self._pending_count -= len(sub.pending)
        self._error(code, message, channel.name)

    def replayed(
        self, channel: Channel, events: Sequence[FeedEvent], *, upto: int, complete: bool
    ) -> None:
        """The channel's missed events in (after, upto], in cursor order; then it goes live.

        ``complete`` is False when the client is too far behind (or asked for no replay with a
        stale cursor): it is told to reload and continues live from ``upto``.
        """
        sub = self._subs.get(channel.name)
        if sub is None or sub.pending is None or self.state is not State.OPEN:
            return
        buffered, sub.pending = sub.pending, None
        self._pending_count -= len(buffered)
        if not complete:
            sub.last = upto
            self._push(_frame(type="reset", channel=channel.name, cursor=upto))
        self._push(_frame(type="subscribed", channel=channel.name, cursor=upto))
        for event in [*events, *buffered]:
            if event.cursor > sub.last:
                sub.last = event.cursor
                self._push(event.frame)

    def live_from(self, channel: Channel, upto: int) -> None:
        """Subscribe without resume: events after ``upto`` only."""
        sub = self._subs.get(channel.name)
        if sub is not None and sub.pending is not None:
            sub.last = upto
            self.replayed(channel, [], upto=upto, complete=True)

    def reset(self, cursor: int) -> None:
        """The gateway itself could not fill a gap: every channel reloads and goes on live."""
        for name, sub in self._subs.items():
            if sub.pending is None:
                sub.last = max(sub.last, cursor)
                self._push(_frame(type="reset", channel=name, cursor=cursor))

    # -- tenant events ------------------------------------------------------------------------

    def deliver(self, event: FeedEvent) -> None:
        """One tenant event, in cursor order. Sent at most once per connection while live."""
        if self.state is not State.OPEN:
            return
        send = False
        for name in event.channels:
            sub = self._subs.get(name)
            if sub is None:
                continue
            if sub.pending is not None:
                sub.pending.append(event)
                self._pending_count += 1
                self._check_bound()
            elif event.cursor > sub.last:
                sub.last = event.cursor
                send = True
        if send:
            self._push(event.frame)

    # -- output -------------------------------------------------------------------------------

    def frames_to_send(self, limit: int = 64) -> list[Outgoing]:
        out: list[Outgoing] = []
        while self._queue and len(out) < limit:
            out.append(self._queue.popleft())
        return out

    def shared_frames_to_send(self, limit: int = 256) -> list[SharedFrame]:
        """The event frames at the head of the queue, up to the first frame of another kind
        (an acknowledgement, an error, a close), which ``frames_to_send`` hands out in order."""
        out: list[SharedFrame] = []
        while self._queue and len(out) < limit:
            head = self._queue[0]
            if not isinstance(head, SharedFrame):
                break
            out.append(head)
            self._queue.popleft()
        return out

    @property
    def has_output(self) -> bool:
        return bool(self._queue)

    @property
    def queued(self) -> int:
        return len(self._queue) + self._pending_count

    def cursor_of(self, channel: str) -> int | None:
        sub = self._subs.get(channel)
        return None if sub is None else sub.last

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(self._subs)

    def close(self, code: int, reason: str) -> None:
        if self.state is State.CLOSED:
            return
        self.state = State.CLOSED
        self.close_code = code
        self._queue.clear()  # what was not written is dropped: the client resumes by cursor
        self._subs.clear()
        self._pending_count = 0
        self._queue.append(Close(code, reason))

    def _error(self, code: str, message: str, channel: object) -> None:
        self._push(_frame(type="error", code=code, message=message, channel=channel))

    def _push(self, frame: str) -> None:
        if self.state is State.CLOSED:
            return
        self._queue.append(frame)
        self._check_bound()

    def _check_bound(self) -> None:
        # The slow-consumer rule: past the bound the connection is closed rather than
        # buffering more; the client reconnects and resumes from its cursors.
        self.peak_queue = max(self.peak_queue, self.queued)
        if self.queued > self.limits.max_queue:
            self.close(CloseCode.SLOW_CONSUMER, "send queue full: reconnect and resume")


__all__ = [
    "INBOX",
    "Action",
    "Authenticate",
    "Close",
    "CloseCode",
    "Limits",
    "Outgoing",
    "Reauthenticate",
    "Session",
]
