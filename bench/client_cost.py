"""CPU per request of the HTTP clients this project uses, measured in the client's process:

    python -m bench.client_cost [--requests 4000]

httpx (the provider adapters', for its transport trace events: see providers.http) against
aiohttp (the simulator's webhooks and the benchmark's agents), both posting a 600-byte body
over kept-alive connections to the bare HTTP ceiling server (bench.bare_http) in a process of
its own, one in flight and 32 in flight. The simulator and the load generators share the
machine with the system they drive, so what their client costs is taken from the system.
"""

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import httpx
import uvloop

from bench.procs import free_port, start_server, uvicorn_argv

BODY = b'{"entry":"' + b"x" * 588 + b'"}'
HEADERS = {"Content-Type": "application/json"}
Post = Callable[[], Awaitable[None]]


async def _cpu_per_request_us(post: Post, requests: int, in_flight: int) -> float:
    gate = asyncio.Semaphore(in_flight)

    async def one() -> None:
        async with gate:
            await post()

    await asyncio.gather(*(one() for _ in range(min(500, requests))))  # connections warm
    started = time.process_time()
    await asyncio.gather(*(one() for _ in range(requests)))
    return round((time.process_time() - started) / requests * 1e6)


async def measure(url: str, requests: int) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for in_flight in (1, 32):
        limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
        async with httpx.AsyncClient(limits=limits) as hx:

            async def httpx_post() -> None:
                (await hx.post(url, content=BODY, headers=HEADERS)).raise_for_status()

            cost = await _cpu_per_request_us(httpx_post, requests, in_flight)
            out.setdefault("httpx", {})[f"in_flight_{in_flight}_us"] = cost
        connector = aiohttp.TCPConnector(limit=in_flight)
        async with aiohttp.ClientSession(connector=connector) as aio:

            async def aiohttp_post() -> None:
                async with aio.post(url, data=BODY, headers=HEADERS) as response:
                    await response.read()
                    response.raise_for_status()

            cost = await _cpu_per_request_us(aiohttp_post, requests, in_flight)
            out.setdefault("aiohttp", {})[f"in_flight_{in_flight}_us"] = cost
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=4000)
    args = parser.parse_args()
    port = free_port()
    logs = Path(tempfile.mkdtemp(prefix="client-cost-"))
    server = start_server("bare-http", uvicorn_argv("bench.bare_http:app", port), logs, port=port)
    try:
        result = uvloop.run(measure(f"http://127.0.0.1:{port}/webhook", args.requests))
    finally:
        server.stop()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
