"""The fan-out ceilings: a bare `websockets` server that broadcasts the same bytes to every
connected client. A client sending ``go <count>`` triggers ``count`` broadcasts, each frame
carrying its send time, as fast as the server can go.

``--compression none`` is the strongest broadcast this machine can do in Python, and the
ceiling the gateway is judged against: no permessage-deflate (so ``broadcast`` serializes
each frame without compressing it per connection), uvloop, and a yield to the event loop only
every ``--yield-every`` frames (each yield lets the writes go out; yielding after every frame
pays the loop's round trip per frame). ``--compression deflate`` is the same with the
extension clients offer by default, reported beside it: what compression costs."""

import argparse
import asyncio
import json
import time

import uvloop
from websockets.asyncio.server import ServerConnection, broadcast, serve

clients: set[ServerConnection] = set()


async def handler(ws: ServerConnection, yield_every: int) -> None:
    async for message in ws:
        if isinstance(message, str) and message.startswith("go "):
            count = int(message.split()[1])
            for seq in range(count):
                frame = json.dumps({"seq": seq, "sent": time.time(), "pad": "x" * 120})
                broadcast(clients, frame)
                if (seq + 1) % yield_every == 0:
                    await asyncio.sleep(0)  # the event loop flushes the writes
            await ws.send("done")
        elif message == "subscribe":
            clients.add(ws)
            await ws.send("ok")
    clients.discard(ws)


async def main(port: int, compression: str, yield_every: int) -> None:
    async with serve(
        lambda ws: handler(ws, yield_every),
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
    args = parser.parse_args()
    uvloop.run(main(args.port, args.compression, args.yield_every))
