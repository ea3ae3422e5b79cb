"""Writing shared event frames straight to a websocket's transport.

Going through ASGI, each connection turns the same event text into a frame of its own: the
send passes every middleware, uvicorn encodes the text and python-websockets serializes the
frame, per connection. With 1,000 subscribers that is 1,000 times the same work per event
and most of the gateway's fan-out cost. When the connection is uvicorn's websockets-sansio
protocol without a compression extension, the frame's bytes are the same for everyone
(``realtime.wire``), so the pump writes them to the transport itself, several at once when
they queued up, with the same back-pressure and closed-connection checks as uvicorn's send.
When the connection's writer is idle and its transport has room, the hub's wake-up writes the
event at once (``Connection.wake``): no task switch per connection per event, which is what
a fan-out to 1,000 connections otherwise spends most of its time on.

Anything else (compression negotiated, another server) keeps the ASGI path: ``DirectWriter.of``
returns None. uvicorn is pinned; ``tests/realtime/test_direct.py`` fails if a new version
moves what this relies on (the protocol's ``send``, ``writable``, ``transport``, ``conn``).
"""

from collections.abc import Sequence
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

# Where ``keep_send`` leaves the server's own send callable in a websocket's ASGI scope.
_SCOPE_KEY = "omni.server_send"


def keep_send(app: ASGIApp) -> ASGIApp:
    """The outermost ASGI layer: remembers the server's send before middlewares wrap it."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope[_SCOPE_KEY] = send
        await app(scope, receive, send)

    return wrapped


class DirectWriter:
    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol

    @classmethod
    def of(cls, scope: Scope) -> "DirectWriter | None":
        """A writer for this accepted connection, or None when its frames must go through ASGI."""
        protocol = getattr(scope.get(_SCOPE_KEY), "__self__", None)
        if not isinstance(protocol, WebSocketsSansIOProtocol):
            return None
        if protocol.conn.extensions:  # compressed: each connection's frames differ
            return None
        return cls(protocol)

    def ready(self) -> bool:
        """Open, and the transport not asking to pause: a write now goes out without waiting."""
        p = self._protocol
        return (
            p.writable.is_set()
            and not p.disconnected
            and not p.close_sent
            and not p.transport.is_closing()
        )

    def write_now(self, frames: Sequence[bytes]) -> None:
        """``frames`` (encoded, complete frames) in one write; only when ``ready()``."""
        self._protocol.transport.write(frames[0] if len(frames) == 1 else b"".join(frames))

    async def write(self, frames: Sequence[bytes]) -> None:
        """``frames`` in one write, once the transport drained (what uvicorn's send checks)."""
        protocol = self._protocol
        await protocol.writable.wait()
        if protocol.disconnected:
            raise ClientDisconnected
        if protocol.close_sent:
            raise RuntimeError("websocket already closed")
        self.write_now(frames)
