"""The fan-out ceiling: a bare `websockets` server that broadcasts the same bytes to every
connected client. A client sending ``go <count>`` triggers ``count`` broadcasts, each frame
carrying its send time, as fast as the server can go."""

import argparse
import asyncio
import json
import time

from websockets.asyncio.server import ServerConnection, broadcast, serve

clients: set[ServerConnection] = set()


async def handler(ws: ServerConnection) -> None:
    async for message in ws:
        if isinstance(message, str) and message.startswith("go "):
            count = int(message.split()[1])
            for seq in range(count):
                frame = json.dumps({"seq": seq, "sent": time.time(), "pad": "x" * 120})
                broadcast(clients, frame)
                await asyncio.sleep(0)  # let the event loop flush writes between frames
            await ws.send("done")
        elif message == "subscribe":
            clients.add(ws)
            await ws.send("ok")
    clients.discard(ws)


async def main(port: int) -> None:
    async with serve(handler, "127.0.0.1", port, max_queue=None, ping_interval=None):
        await asyncio.Future()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(main(parser.parse_args().port))
