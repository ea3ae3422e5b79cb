"""A real uvicorn server on loopback with the guarded protocol, and real sockets as clients."""

import asyncio
import socket
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
import websockets
from starlette.types import Receive, Scope, Send

from realtime.app import server_config
from telemetry.httpguard import MAX_HEAD_BYTES, MAX_HEADERS, GuardedHttpToolsProtocol, guarded_http
from telemetry.ops import EmbeddedServer

DEADLINE_S = 1.0


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        return
    if scope["type"] == "websocket":
        await receive()  # connect
        await send({"type": "websocket.accept"})
        message = await receive()
        await send({"type": "websocket.send", "text": message.get("text", "")})
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["path"] == "/slow":
        await asyncio.sleep(2 * DEADLINE_S)  # the app's own time: not the client's
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"got %d" % len(body)})


@pytest.fixture
async def port() -> AsyncIterator[int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="off",
        ws="websockets-sansio",
        http=guarded_http(DEADLINE_S),
        timeout_keep_alive=30,
    )
    server = EmbeddedServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    yield sock.getsockname()[1]
    server.should_exit = True
    await task
    sock.close()


async def _answer_within(reader: asyncio.StreamReader, seconds: float) -> tuple[bytes, float]:
    """What the server sends until it closes, and after how long."""
    started = time.monotonic()
    data = await asyncio.wait_for(reader.read(), seconds)
    return data, time.monotonic() - started


async def test_a_silent_connection_is_answered_408_and_closed(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    data, waited = await _answer_within(reader, 5)
    assert data.startswith(b"HTTP/1.1 408 ")
    assert DEADLINE_S * 0.9 < waited < DEADLINE_S + 1.5
    writer.close()


@pytest.mark.parametrize(
    ("start", "pieces", "every_s"),
    [
        (b"POST /x HTTP/1.1\r\nHost: t\r\n", [b"X-Slow-%d: 1\r\n" % i for i in range(20)], 0.2),
        (b"POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n", [b"a"] * 100, 0.1),
    ],
    ids=["head-a-header-at-a-time", "body-a-byte-at-a-time"],
)
async def test_a_trickling_request_does_not_hold_the_connection(
    port: int, start: bytes, pieces: list[bytes], every_s: float
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(start)

    async def trickle() -> None:
        for piece in pieces:
            writer.write(piece)
            await asyncio.sleep(every_s)

    task = asyncio.create_task(trickle())
    data, waited = await _answer_within(reader, 5)
    task.cancel()
    assert data.startswith(b"HTTP/1.1 408 ")
    assert waited < DEADLINE_S + 1.5
    writer.close()


@pytest.mark.parametrize(
    "head",
    [
        b"X-Big: " + b"a" * MAX_HEAD_BYTES + b"\r\n",
        b"".join(b"X-H%d: 1\r\n" % i for i in range(MAX_HEADERS + 1)),
        b"".join(b"X-Pad-%d: %s\r\n" % (i, b"a" * 1000) for i in range(5000)),  # 5 MB, endless
    ],
    ids=["one-large-header", "too-many-headers", "headers-that-never-end"],
)
async def test_a_head_too_large_is_answered_431_and_closed(port: int, head: bytes) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: t\r\n" + head)
    await asyncio.wait_for(writer.drain(), 5)  # the server reads what follows, and drops it
    data, _ = await _answer_within(reader, 5)
    assert data.startswith(b"HTTP/1.1 431 ")
    writer.close()


async def test_requests_in_time_are_served_idle_and_slow_answers_included(port: int) -> None:
    limits = httpx.Limits(keepalive_expiry=60)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits) as client:
        first = await client.post("/x", content=b"a" * 70_000)
        await asyncio.sleep(DEADLINE_S * 1.5)  # idle between requests: keep-alive's, not ours
        second = await client.post("/slow", content=b"b")  # answered after the deadline
    assert (first.status_code, first.text) == (200, "got 70000")
    assert (second.status_code, second.text) == (200, "got 1")


async def test_a_websocket_lives_past_the_deadline(port: int) -> None:
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws") as ws:
        await asyncio.sleep(DEADLINE_S * 1.5)
        await ws.send("still here")
        assert await ws.recv() == "still here"


def test_the_gateway_serves_with_the_guarded_protocol() -> None:
    config = server_config(app, _gateway_settings())  # type: ignore[arg-type]
    config.load()
    assert issubclass(config.http_protocol_class, GuardedHttpToolsProtocol)


def _gateway_settings():  # type: ignore[no-untyped-def]
    from realtime.settings import GatewaySettings

    return GatewaySettings(host="127.0.0.1", port=0, ingest_public_url="https://ingest.test")
