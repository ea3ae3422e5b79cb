"""An ASGI middleware that caps request bodies while they are received: 413 before anything
parses them (or checks a token), whether the client declared a Content-Length or streams the
body chunked.

A JSON body grows about twenty-fold once parsed, so an API that reads a body of any size
before looking at it lets anyone without a token spend its memory. The body is read here, up
to ``max_bytes`` and no further, and handed on to the app as one message; bigger ones are
answered ``413`` (problem details, ``code: body_too_large``) and never read whole. Routes that
stream large bodies under their own limits (media uploads) are named by ``streams`` and left
alone.
"""

from collections.abc import Callable

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Streams = Callable[[Scope], bool]


def _never(scope: Scope) -> bool:
    return False


def too_large(max_bytes: int) -> bytes:
    return orjson.dumps(
        {
            "type": "about:blank",
            "title": "body too large",
            "status": 413,
            "code": "body_too_large",
            "detail": f"request bodies here are limited to {max_bytes} bytes",
        }
    )


class BodyCap:
    def __init__(self, app: ASGIApp, *, max_bytes: int, streams: Streams = _never) -> None:
        self._app = app
        self._max_bytes = max_bytes
        self._streams = streams
        self._refusal = too_large(max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._streams(scope):
            await self._app(scope, receive, send)
            return
        if _declared(scope) > self._max_bytes:
            await self._refuse(send)  # not a byte of the body read
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away mid-body: nobody to answer
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self._max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self._app(scope, _replay(b"".join(chunks), receive), send)

    async def _refuse(self, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(self._refusal)).encode()),
                    # The rest of the body is not read: the connection cannot be reused.
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": self._refusal})


def _declared(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else 0  # the server rejects a malformed one
    return 0


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body as one message, then whatever the client sends next (its disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
