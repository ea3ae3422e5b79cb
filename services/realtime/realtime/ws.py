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
from starlette.websockets import WebSocketDisconnect

from db.tenant import tenant_tx
from realtime.access import member_role, verify_token
from realtime.channels import Channel
from realtime.deps import Resources
from realtime.errors import ApiError
from realtime.hub import record_close
from realtime.session import Authenticate, Close, CloseCode, Session, State, Subscribe
from realtime.settings import origin_allowed
from realtime.store import events as event_store

log = structlog.get_logger(__name__)


class Connection:
    def __init__(self, ws: WebSocket, resources: Resources) -> None:
        self.ws = ws
        self.resources = resources
        self.session = Session(resources.settings.limits, now=time.monotonic())
        self._wake = asyncio.Event()
        self._gone = False
        self._writer: asyncio.Task[None] | None = None

    # -- called by the hub --------------------------------------------------------------------

    def wake(self) -> None:
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
        deadline = asyncio.get_running_loop().call_later(
            self.resources.settings.auth_timeout_s, self._auth_deadline
        )
        reader = asyncio.create_task(self._read())
        self._writer = asyncio.create_task(self._write())
        try:
            await asyncio.wait({self._writer})  # ends on close, disconnect or cancellation
        finally:
            deadline.cancel()
            reader.cancel()
            self._writer.cancel()
            self.resources.hub.leave(self, self.session.tenant_id)
            if self.session.close_code is not None:
                record_close(self.session.close_code)

    def _auth_deadline(self) -> None:
        self.session.check_auth_deadline(time.monotonic())
        self.wake()

    async def _write(self) -> None:
        try:
            while not self._gone:
                await self._wake.wait()
                self._wake.clear()
                while not self._gone and (frames := self.session.frames_to_send()):
                    for frame in frames:
                        if isinstance(frame, Close):
                            await self.ws.close(frame.code, frame.reason)
                            return
                        await self.ws.send_text(frame)
        except (WebSocketDisconnect, RuntimeError, OSError):
            return  # the client went away mid-write; it resumes by cursor

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

    async def _perform(self, action: Authenticate | Subscribe) -> None:
        if isinstance(action, Authenticate):
            await self._authenticate(action.token)
        else:
            await self._subscribe(action.channel, action.after)
        self.wake()

    async def _authenticate(self, token: str) -> None:
        r = self.resources
        try:
            user_id, tenant_id = await verify_token(r.verifier, token)
            async with tenant_tx(r.pool, tenant_id) as conn:
                role = await member_role(conn, user_id)
        except ApiError as exc:
            self.session.auth_failed(exc.detail[:120])
            return
        # Joined before the watermark is read: nothing committed after it can be missed.
        self.session.tenant_id = tenant_id
        cursor = await r.hub.join(self, tenant_id)
        self.session.authenticated(tenant_id=tenant_id, user_id=user_id, role=role, cursor=cursor)

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


async def websocket_endpoint(ws: WebSocket) -> None:
    resources: Resources = ws.app.state.resources
    if not origin_allowed(ws.headers.get("origin"), resources.settings.origins):
        await ws.close(CloseCode.POLICY)  # before accept: the handshake is refused with 403
        return
    await ws.accept()
    await Connection(ws, resources).run()
