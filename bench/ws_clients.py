"""N websocket clients in one process (run as a subprocess, so clients and server do not share
an event loop). Prints one JSON line: deliveries, latency percentiles, first/last receive time.

Modes: ``bare`` speaks to ws_bare_server; ``gateway`` authenticates with a JWT and subscribes
to the tenant's inbox feed using the gateway's protocol (docs/websocket-protocol.md), and
reads the send time a benchmark event carries in its text (``bench:<epoch seconds>``).
"""

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Awaitable, Callable

import uvloop
from websockets.asyncio.client import ClientConnection, connect

from bench.stats import summary_ms

Handshake = Callable[[ClientConnection], Awaitable[None]]


def _sent_time(frame: str | bytes, mode: str) -> float | None:
    # One JSON parse per frame in both modes, as a real client does; the gateway's frames are
    # then searched as received (serializing them again would make the clients, not the
    # server, the measure of the gateway).
    data = json.loads(frame)
    if mode == "bare":
        return float(data["sent"]) if "sent" in data else None
    text = frame if isinstance(frame, str) else frame.decode()
    marker = text.find("bench:")
    if marker == -1:
        return None
    end = marker + 6
    while end < len(text) and (text[end].isdigit() or text[end] == "."):
        end += 1
    return float(text[marker + 6 : end])


async def run(
    url: str, n: int, expect: int, mode: str, handshake_frames: list[str], timeout_s: float
) -> dict[str, object]:
    latencies: list[float] = []
    deliveries = 0
    first = last = 0.0
    ready = asyncio.Event()
    connected = 0
    all_done = asyncio.Event()

    async def client() -> None:
        nonlocal deliveries, first, last, connected
        async with connect(url, max_size=2**20, ping_interval=None, open_timeout=30) as ws:
            for hello in handshake_frames:
                await ws.send(hello)
                await ws.recv()  # each handshake frame is acknowledged (ready, subscribed)
            connected += 1
            if connected == n:
                ready.set()
            got = 0
            while got < expect:
                frame = await ws.recv()
                sent = _sent_time(frame, mode)
                if sent is None:
                    continue
                now = time.time()
                latencies.append(now - sent)
                deliveries += 1
                got += 1
                first = first or now
                last = now
            if deliveries >= n * expect:
                all_done.set()

    tasks = [asyncio.create_task(client()) for _ in range(n)]
    await asyncio.wait_for(ready.wait(), timeout=120)
    print(json.dumps({"ready": n}), flush=True)
    with contextlib.suppress(TimeoutError):  # report what arrived, even if not everything
        await asyncio.wait_for(all_done.wait(), timeout=timeout_s)
    for task in tasks:
        task.cancel()
    return {
        "clients": n,
        "deliveries": deliveries,
        "expected": n * expect,
        "first_receive": first,
        "last_receive": last,
        **summary_ms(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--expect", type=int, required=True, help="frames per client")
    parser.add_argument("--mode", choices=["bare", "gateway"], default="bare")
    parser.add_argument(
        "--handshake",
        action="append",
        default=[],
        help="frames to send after connecting (repeatable)",
    )
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args()
    # uvloop, like the servers measured: a client slower than the server would cap both.
    result = uvloop.run(
        run(args.url, args.clients, args.expect, args.mode, args.handshake, args.timeout)
    )
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
