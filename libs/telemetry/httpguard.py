"""uvicorn's HTTP protocol (httptools) with limits on how a request is received.

uvicorn bounds neither the time a client takes to send a request nor the size of its head: it
times a connection out only while idle *between* requests (``timeout_keep_alive``, armed after
a response). So, without a token, anyone could
- open connections and send nothing, or a header a minute, and hold them (and a file
  descriptor each) for as long as they like;
- stream headers that never end: every one is kept (50 MB of headers grew a server by 56 MB).

Here a request must arrive whole — head and body — within ``deadline_s`` of the connection
opening or of the request's first byte, or the connection is answered 408 and closed; its head
(request line and headers) may take ``MAX_HEAD_BYTES`` in at most ``MAX_HEADERS`` headers, or
it is answered 431 and closed. The clock stops once the request is in: a slow answer is the
server's business, not the client's. A websocket upgrade is handed over after its head, and
the gateway's own deadlines (the auth frame's) take over from there. Idle time between
requests is still ``timeout_keep_alive``'s: ``KEEP_ALIVE_S``.

``public_config`` is the uvicorn config of every port the internet reaches (ingest-api, the
gateway, media-api): this protocol and that keep-alive, so no public server is without them.
"""

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# Request line and headers: a browser's cookies and a bearer token fit many times over.
MAX_HEAD_BYTES = 32 * 1024
MAX_HEADERS = 100
# A request's head and a webhook's or an API call's body (capped at 1 MB by the services) come
# in well within this on any link a provider or a browser uses.
DEADLINE_S = 30.0
# How long a public server keeps an idle connection open. uvicorn's default, 5 s, is exactly
# httpx's pool expiry and far below a load balancer's idle timeout (AWS ALB: 60 s): a client
# that reuses its connection as the server closes it gets a reset, not an answer (an agent's
# send then fails without telling whether it was accepted), and a load balancer answers 502.
# A server must keep idle connections longer than the clients in front of it do.
KEEP_ALIVE_S = 75
# After a refusal the client may still be sending: its bytes are read and dropped this long,
# because closing with them unread resets the connection and the client never reads why.
LINGER_S = 2.0


class _HeadTooLarge(Exception):
    """Raised from a parser callback: httptools stops parsing and uvicorn answers (as a parse
    error: ``send_400_response``, which answers 431 instead)."""


def _answer(status: bytes, reason: str) -> bytes:
    body = reason.encode()
    return b"".join(
        [
            b"HTTP/1.1 " + status + b"\r\n",
            b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            b"connection: close\r\n\r\n",
            body,
        ]
    )


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    deadline_s = DEADLINE_S

    _deadline: asyncio.TimerHandle | None = None
    _head_bytes = 0  # received since the current request began, while its head is incomplete
    _in_head = True  # the next bytes belong to a request's head
    _too_large = False
    _refused = False
    _upgraded = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Bytes of a head go to the parser in pieces no larger than the head may still grow:
        httptools keeps a header's value whole until the next one starts, so one endless
        header would otherwise be held in full before any callback could count it."""
        while self._in_head and data and not (self._refused or self._upgraded):
            room = MAX_HEAD_BYTES - self._head_bytes
            if room <= 0:
                self._refuse_head()
                return
            piece, data = data[:room], data[room:]
            self._head_bytes += len(piece)
            super().data_received(piece)
        if data and not (self._refused or self._upgraded):
            super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:  # the connection's first request is timed from its opening
            self._arm()

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(self.headers) >= MAX_HEADERS:
            self._too_large = True
            raise _HeadTooLarge  # httptools stops; uvicorn calls send_400_response
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        self._in_head, self._head_bytes = True, 0  # what follows is the next request's head
        super().on_message_complete()

    def handle_websocket_upgrade(self) -> None:
        self._disarm()
        self._upgraded = True
        super().handle_websocket_upgrade()

    def send_400_response(self, msg: str) -> None:
        # httptools reports an exception raised in a callback as a parse error.
        if self._too_large:
            self._refuse_head()
        else:
            super().send_400_response(msg)

    # -- the limits ------------------------------------------------------------------------------

    def _refuse_head(self) -> None:
        self.logger.warning("Request head too large.")
        self._refuse(_answer(b"431 Request Header Fields Too Large", "request head too large"))

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.deadline_s, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.transport.is_closing() or self._refused:
            return
        if self.cycle is None or not self.cycle.response_started:
            self._refuse(_answer(b"408 Request Timeout", "request not received in time"))
        else:
            self.transport.close()

    def _refuse(self, answer: bytes) -> None:
        """Send ``answer``, read no more, and close once the client has (or after LINGER_S)."""
        self._refused = True
        self.transport.write(answer)
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_S, self.transport.close)


def guarded_http(deadline_s: float = DEADLINE_S) -> type[GuardedHttpToolsProtocol]:
    """The protocol class for ``uvicorn.Config(http=...)``, with ``deadline_s`` to receive a
    request (longer where bodies are large: media uploads)."""
    return type("GuardedHttp", (GuardedHttpToolsProtocol,), {"deadline_s": deadline_s})


def public_config(app: Any, *, deadline_s: float = DEADLINE_S, **options: Any) -> uvicorn.Config:
    """uvicorn's config for a public port: requests received under this module's limits
    (``deadline_s`` longer where bodies are large), idle connections kept ``KEEP_ALIVE_S``."""
    return uvicorn.Config(
        app, http=guarded_http(deadline_s), timeout_keep_alive=KEEP_ALIVE_S, **options
    )
