"""HTTP load from Python over persistent HTTP/1.1 connections: open loop at a fixed rate (the
inbound benchmark) and closed loop as fast as possible (the HTTP ceiling).

Open loop measures latency from each request's *scheduled* time, so a slow server cannot hide
its queueing by slowing the generator down (coordinated omission). The wire work is minimal
(pre-built request bytes, Content-Length responses) so the generator costs the same against the
bare ceiling server and against ingest-api: what differs between the two is the server.
"""

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

MakeRequest = Callable[[int], bytes]


@dataclass
class LoadResult:
    offered_rate: float | None
    duration_s: float
    completed: int = 0
    errors: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    latencies_s: list[float] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return self.completed / self.duration_s if self.duration_s else 0.0


def build_request(method: str, host: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


class _Conn:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes) -> int:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(raw)
        try:
            return await _read_response(self.reader)
        except (asyncio.IncompleteReadError, ConnectionError):
            self.close()
            raise

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def closed_loop(
    host: str, port: int, make: MakeRequest, *, duration_s: float, connections: int = 32
) -> LoadResult:
    result = LoadResult(None, duration_s)
    deadline = time.perf_counter() + duration_s
    counter = iter(range(10**12))

    async def worker() -> None:
        conn = _Conn(host, port)
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                status = await asyncio.wait_for(conn.request(make(next(counter))), 10)
            except (TimeoutError, OSError, asyncio.IncompleteReadError):
                result.errors += 1
                conn.close()
                continue
            result.statuses[status] += 1
            if status < 300:
                result.completed += 1
                result.latencies_s.append(time.perf_counter() - start)
            else:
                result.errors += 1
        conn.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return result


async def open_loop(
    host: str,
    port: int,
    make: MakeRequest,
    *,
    rate: float,
    duration_s: float,
    connections: int = 128,
    grace_s: float = 5.0,
    on_sent: Callable[[int, float], None] | None = None,
) -> LoadResult:
    """Send ``rate`` requests per second for ``duration_s``; ``on_sent(i, scheduled_wall_time)``
    lets the caller match later effects (a websocket frame) to request ``i``."""
    result = LoadResult(rate, duration_s)
    queue: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()
    total = int(rate * duration_s)

    async def schedule() -> None:
        start = time.perf_counter()
        for i in range(total):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            queue.put_nowait((i, due))
        for _ in range(connections):
            queue.put_nowait(None)

    async def worker() -> None:
        conn = _Conn(host, port)
        while (item := await queue.get()) is not None:
            i, due = item
            if on_sent is not None:
                on_sent(i, time.time() - (time.perf_counter() - due))
            try:
                status = await asyncio.wait_for(conn.request(make(i)), 10)
            except (TimeoutError, OSError, asyncio.IncompleteReadError):
                result.errors += 1
                conn.close()
                continue
            result.statuses[status] += 1
            if status < 300:
                result.completed += 1
                result.latencies_s.append(time.perf_counter() - due)
            else:
                result.errors += 1
        conn.close()

    workers = [asyncio.create_task(worker()) for _ in range(connections)]
    await schedule()
    _, pending = await asyncio.wait(workers, timeout=duration_s + grace_s)
    for task in pending:
        task.cancel()
    result.errors += total - result.completed - result.errors
    return result
