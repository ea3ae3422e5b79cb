"""Loopback servers the media tests run in-process: an app served by uvicorn (media-api), and a
TCP listener that only counts the connections it is offered."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI

from devstack.process import free_port
from telemetry.ops import EmbeddedServer


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
