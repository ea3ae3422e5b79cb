"""A TCP proxy a test puts between a service and one of its dependencies, to make that
dependency hang (connections stay open, nothing is answered: what SIGSTOP looks like on the
wire) or refuse (every connection reset, new ones refused) on demand, without touching the
real server the rest of the session shares."""

import asyncio
import contextlib
from enum import Enum

from devstack.process import free_port


class Mode(Enum):
    PASS = "pass"
    HANG = "hang"
    REFUSE = "refuse"


class FaultProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self.port = free_port()
        self.mode = Mode.PASS
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._resumed = asyncio.Event()
        self._resumed.set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def stop(self) -> None:
        self._resumed.set()
        await self._drop_all()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def hang(self) -> None:
        self.mode = Mode.HANG
        self._resumed.clear()

    async def refuse(self) -> None:
        self.mode = Mode.REFUSE
        await self._drop_all()
        if self._server is not None:  # new connections: refused by the kernel
            self._server.close()
            self._server = None

    async def restore(self) -> None:
        self.mode = Mode.PASS
        self._resumed.set()
        if self._server is None:
            await self.start()

    async def _drop_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode is Mode.REFUSE:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while chunk := await reader.read(65536):
                await self._resumed.wait()  # hung: bytes are held, the peer waits
                if self.mode is Mode.REFUSE:
                    break
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.transport.abort()
