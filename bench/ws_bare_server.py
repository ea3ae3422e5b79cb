"""The fan-out ceilings: a bare `websockets` server that broadcasts the same bytes to every
connected client. A client sending ``go <count>`` triggers ``count`` broadcasts, each frame
carrying its send time, as fast as the server can go.

``--shared`` is the strongest broadcast this machine can do in Python, and the ceiling the
gateway is judged against: no compression, uvloop, each group of ``--yield-every`` frames
encoded once (server frames are unmasked, so their bytes are the same for every client) and
written to each client's transport in one write, then one yield to the event loop. Without
it, `websockets`' own ``broadcast`` serializes each frame per connection and writes it on its
own (a system call per frame per client), reported beside it; ``--compression deflate`` is
that with the extension clients offer by default: what compression costs."""

import argparse
import asyncio
import json
import time

import uvloop
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.protocol import State

from realtime.wire import text_frame

clients: set[ServerConnection] = set()


def frame(seq: int) -> str:
    return json.dumps({"seq": seq, "sent": time.time(), "pad": "x" * 120})


def write_shared(frames: list[str]) -> None:
    """``frames`` encoded once, and the same bytes written to every client in one write."""
    wire = b"".join(text_frame(f.encode()) for f in frames)
    for ws in clients:
        if ws.protocol.state is State.OPEN:
            ws.transport.write(wire)


async def handler(ws: ServerConnection, yield_every: int, shared: bool) -> None:
    async for message in ws:
        if isinstance(message, str) and message.startswith("go "):
            count = int(message.split()[1])
            for first in range(0, count, yield_every):
                group = [frame(seq) for seq in range(first, min(count, first + yield_every))]
                if shared:
                    write_shared(group)
                else:
                    for text in group:
                        broadcast(clients, text)
                await asyncio.sleep(0)  # the event loop flushes the writes
            await ws.send("done")
        elif message == "subscribe":
            clients.add(ws)
            await ws.send("ok")
    clients.discard(ws)


async def main(port: int, compression: str, yield_every: int, shared: bool) -> None:
    async with serve(
        lambda ws: handler(ws, yield_every, shared),
        "127.0.0.1",
        port,
        max_queue=None,
        ping_interval=None,
        compression=None if compression == "none" else "deflate",
    ):
        await asyncio.Future()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--compression", choices=["none", "deflate"], default="none")
    parser.add_argument("--yield-every", type=int, default=20)
    parser.add_argument("--shared", action="store_true")
    args = parser.parse_args()
    uvloop.run(main(args.port, args.compression, args.yield_every, args.shared))
