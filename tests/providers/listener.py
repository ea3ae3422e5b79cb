"""A loopback HTTP listener that records every connection and request head it gets: the
"internal service" an attacker would aim at, or a provider stand-in that answers fixed bodies."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field


@dataclass
class Listener:
    port: int = 0
    accepted: int = 0
    heads: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.asynccontextmanager
async def listening(
    status: int = 200, body: bytes = b'{"secret": "internal-only"}', headers: str = ""
) -> AsyncIterator[Listener]:
    listener = Listener()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        listener.accepted += 1
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            listener.heads.append(head.decode("latin-1"))
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n{headers}"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    listener.port = server.sockets[0].getsockname()[1]
    try:
        yield listener
    finally:
        server.close()
        await server.wait_closed()
