"""The websocket pump: moves frames between the socket and a pure ``Session``, and performs the
I/O the session asks for (token check, membership, conversation lookup, replay).

A reader task feeds client frames in; the writer (this coroutine) writes what the session hands
out. Writes wait for the transport to drain, so a client that does not read makes the session's
queue grow until the session closes it (slow consumer) — memory stays bounded by the queue.
"""

import asyncio
import time

import structlog
from fastapi import WebSocket
from opentelemetry.trace import SpanKind
from starlette.websockets import WebSocketDisconnect

from auth.tokens import Principal
from db.tenant import tenant_tx
from realtime.access import member_role, verify_token
from realtime.channels import Channel
from realtime.deps import Resources
from realtime.direct import DirectWriter
from realtime.errors import ApiError
from realtime.feed import TracedFrame
from realtime.hub import record_close
from realtime.protocol import (
    Action,
    Authenticate,
    Close,
    CloseCode,
    Outgoing,
    Reauthenticate,
    State,
)
from realtime.session import Session
from realtime.settings import origin_allowed
from realtime.store import events as event_store
from realtime.wire import SharedFrame
from telemetry import tracing

log = structlog.get_logger(__name__)

TIMER_SLACK_S = 0.005  # past the deadline rather than just before it


class Connection:
    def __init__(self, ws: WebSocket, resources: Resources) -> None:
        self.ws = ws
        self.resources = resources
        self.session = Session(resources.settings.limits, now=time.monotonic())
        self._wake = asyncio.Event()
        self._gone = False
        self._writer: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        # Set once accepted: the handshake decides whether frames may be shared.
        self._direct: DirectWriter | None = None
        self._busy = False  # the writer holds frames taken from the session, not yet written

    # -- called by the hub --------------------------------------------------------------------

    def wake(self) -> None:
        """Something was queued. Event frames go out right here when nothing is ahead of them
        (the writer is idle, the transport has room); the writer task handles the rest."""
        direct = self._direct
        if direct is not None and not self._busy and direct.ready():
            frames = self.session.shared_frames_to_send()
            if frames:
                direct.write_now([f.wire for f in frames])
            if not self.session.has_output and not self._gone:
                return
        self._wake.set()

    def closing(self) -> None:
        """The session decided to close; a writer stuck on a client that never reads is given
        ``close_timeout_s`` to get the close frame out, then cancelled."""
        loop = asyncio.get_running_loop()
        writer = self._writer
        if writer is not None:
            loop.call_later(self.resources.settings.close_timeout_s, writer.cancel)

    # -- the pump -----------------------------------------------------------------------------

    async def run(self) -> None:
        self._direct = DirectWriter.of(self.ws.scope)
        self._arm()
        reader = asyncio.create_task(self._read())
        self._writer = asyncio.create_task(self._write())
        try:
            await asyncio.wait({self._writer})  # ends on close, disconnect or cancellation
        finally:
            if self._timer is not None:
                self._timer.cancel()
            reader.cancel()
            self._writer.cancel()
            self.resources.hub.leave(self, self.session.tenant_id)
            if self.session.close_code is not None:
                record_close(self.session.close_code)

    def _arm(self) -> None:
        """(Re)set the one timer of this connection to the session's next deadline: the auth
        frame's, then the token's expiry. A loop's timer can fire a little early (uvloop's
        clock is cached, in milliseconds), so the callback compares with the monotonic clock
        and simply re-arms when nothing is due yet."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        deadline = self.session.next_deadline()
        if deadline is None or deadline == float("inf"):
            return
        delay = max(0.0, deadline - time.monotonic()) + TIMER_SLACK_S
        self._timer = asyncio.get_running_loop().call_later(delay, self._on_deadline)

    def _on_deadline(self) -> None:
        self._timer = None
        self.session.check_deadlines(time.monotonic())
        if self.session.state is State.CLOSED:
            self.resources.hub.leave(self, self.session.tenant_id)
            self.closing()
            self.wake()
        else:
            self._arm()

    async def _write(self) -> None:
        try:
            while not self._gone:
                await self._wake.wait()
                self._wake.clear()
                while not self._gone and (frames := self.session.frames_to_send()):
                    self._busy = True  # frames in hand: wake() must not write past them
                    try:
                        if not await self._send(frames):
                            return
                    finally:
                        self._busy = False
        except (WebSocketDisconnect, RuntimeError, OSError):
            return  # the client went away mid-write; it resumes by cursor

    async def _send(self, frames: list[Outgoing]) -> bool:
        """Write ``frames`` in order; False once the close frame went out. Event frames go
        straight to the transport when they can (``realtime.direct``), consecutive ones in
        one write; the rest through ASGI."""
        direct, shared = self._direct, list[bytes]()
        for frame in frames:
            if direct is not None and isinstance(frame, SharedFrame):
                shared.append(frame.wire)
                continue
            if direct is not None and shared:
                await direct.write(shared)
                shared = []
            if isinstance(frame, Close):
                await self.ws.close(frame.code, frame.reason)
                return False
            if tracing.active and type(frame) is TracedFrame:
                await self._send_traced(frame)
            else:
                await self.ws.send_text(frame)
        if direct is not None and shared:
            await direct.write(shared)
        return True

    async def _send_traced(self, frame: TracedFrame) -> None:
        """The frame's write (until the transport took it) as the last span of its trace."""
        with tracing.span(
            "websocket send",
            parent=frame.traceparent,
            kind=SpanKind.PRODUCER,
            attributes={**frame.attributes, "omni.user_id": self.session.user_id or ""},
        ):
            await self.ws.send_text(frame)

    async def _read(self) -> None:
        try:
            while True:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                data = message.get("text") or message.get("bytes") or b""
                for action in self.session.receive(data, now=time.monotonic()):
                    await self._perform(action)
                self.wake()
                if self.session.state is State.CLOSED:
                    self.closing()
                    return  # the writer sends the close frame
        except WebSocketDisconnect:
            pass
        except Exception:
            log.exception("websocket reader failed")
            self.session.close(CloseCode.INTERNAL, "internal error")
            self.wake()
            return
        self._gone = True
        self.wake()

    async def _perform(self, action: Action) -> None:
        if isinstance(action, Authenticate):
            await self._authenticate(action.token)
        elif isinstance(action, Reauthenticate):
            await self._reauthenticate(action.token)
        else:
            await self._subscribe(action.channel, action.after)
        self.wake()

    async def _check(self, token: str) -> tuple[Principal, str] | None:
        """The token's principal and the member's role (the same checks for the first token
        and a fresh one); None after telling the session why not."""
        r = self.resources
        try:
            principal = await verify_token(r.verifier, token)
            async with tenant_tx(r.pool, principal.tenant_id) as conn:
                role = await member_role(conn, principal.user_id)
        except ApiError as exc:
            self.session.auth_failed(exc.detail[:120])
            return None
        return principal, role

    async def _authenticate(self, token: str) -> None:
        checked = await self._check(token)
        if checked is None:
            return
        principal, role = checked
        tenant_id = principal.tenant_id
        # Joined before the watermark is read: nothing committed after it can be missed.
        self.session.tenant_id = tenant_id
        cursor = await self.resources.hub.join(self, tenant_id)
        self.session.authenticated(
            tenant_id=tenant_id,
            user_id=principal.user_id,
            role=role,
            cursor=cursor,
            token_deadline=_deadline(principal),
            expires_at=int(principal.expires_at),
        )
        self._arm()

    async def _reauthenticate(self, token: str) -> None:
        checked = await self._check(token)
        if checked is None:
            return
        principal, _ = checked
        self.session.reauthenticated(
            tenant_id=principal.tenant_id,
            user_id=principal.user_id,
            token_deadline=_deadline(principal),
            expires_at=int(principal.expires_at),
        )
        self._arm()

    async def _subscribe(self, channel: Channel, after: int | None) -> None:
        r, tenant_id = self.resources, self.session.tenant_id
        assert tenant_id is not None
        if channel.conversation_id is not None:
            async with tenant_tx(r.pool, tenant_id) as conn:
                exists = await conn.fetchval(
                    "SELECT 1 FROM conversations WHERE id = $1", channel.conversation_id
                )
            if exists is None:
                self.session.subscribe_refused(channel, "not_found", "no such conversation")
                return
        # The channel is already buffering live events; everything up to the watermark comes
        # from Postgres, everything after it live. The session drops cursors seen twice.
        upto = await r.hub.watermark(tenant_id)
        if after is None:
            self.session.live_from(channel, upto)
            return
        if after > upto:  # a cursor from the future (another database?): start over
            self.session.replayed(channel, [], upto=upto, complete=False)
            return
        limit = r.settings.max_replay
        async with tenant_tx(r.pool, tenant_id) as conn:
            missed = await event_store.replay(
                conn, tenant_id=tenant_id, channel=channel, after=after, upto=upto, limit=limit + 1
            )
        if len(missed) > limit:
            self.session.replayed(channel, [], upto=upto, complete=False)
        else:
            self.session.replayed(channel, missed, upto=upto, complete=True)


def _deadline(principal: Principal) -> float:
    """The token's expiry on the monotonic clock the session keeps its deadlines on."""
    return time.monotonic() + (principal.expires_at - time.time())


async def websocket_endpoint(ws: WebSocket) -> None:
    resources: Resources = ws.app.state.resources
    if not origin_allowed(ws.headers.get("origin"), resources.settings.origins):
        await ws.close(CloseCode.POLICY)  # before accept: the handshake is refused with 403
        return
    await ws.accept()
    await Connection(ws, resources).run()
