"""Small loopback servers the media tests run in-process: an HTTP media source standing in for a
provider's CDN, and a TCP listener that only counts the connections it is offered."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import uvicorn
from fastapi import FastAPI
from fastapi.responses import Response, StreamingResponse

from devstack.process import free_port
from telemetry.ops import EmbeddedServer
from tests.media import payloads


@dataclass
class Source:
    port: int
    hits: dict[str, int] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, kind: str, size: int, seed: str) -> str:
        return f"{self.base}/media/{kind}/{size}/{seed}"


def source_app(source: Source) -> FastAPI:
    app = FastAPI()

    @app.get("/media/{kind}/{size}/{seed}")
    async def media(kind: str, size: int, seed: str) -> StreamingResponse:
        source.hits[seed] = source.hits.get(seed, 0) + 1
        return StreamingResponse(
            _slowly(payloads.chunks(kind, size, seed)),
            media_type=payloads.MAGIC[kind][0],
            headers={"Content-Length": str(size)},
        )

    @app.get("/flaky/{failures}/{kind}/{size}/{seed}")
    async def flaky(failures: int, kind: str, size: int, seed: str) -> Response:
        """Answers 503 ``failures`` times, then the file."""
        seen = source.hits.get(seed, 0)
        source.hits[seed] = seen + 1
        if seen < failures:
            return Response(status_code=503)
        return Response(payloads.whole(kind, size, seed), media_type=payloads.MAGIC[kind][0])

    @app.get("/gone/{seed}")
    async def gone(seed: str) -> Response:
        source.hits[seed] = source.hits.get(seed, 0) + 1
        return Response(status_code=404)

    return app


async def _slowly(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk
        await asyncio.sleep(0)  # let the event loop breathe between chunks


@contextlib.asynccontextmanager
async def serving(app: FastAPI, port: int | None = None) -> AsyncIterator[int]:
    port = port or free_port()
    server = EmbeddedServer(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        await task


@dataclass
class Listener:
    """A TCP port on 127.0.0.1 that counts connections and answers none of them."""

    port: int
    accepted: int = 0


@contextlib.asynccontextmanager
async def listening() -> AsyncIterator[Listener]:
    listener = Listener(0)

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        listener.accepted += 1
        writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    listener.port = server.sockets[0].getsockname()[1]
    try:
        yield listener
    finally:
        server.close()
        await server.wait_closed()
