"""The ceilings, measured in the same run as the system: bare HTTP, raw broker, bare broadcast."""

import asyncio
import time
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from websockets.asyncio.client import connect

from bench.http_load import build_request, closed_loop
from bench.procs import free_port, start_server, swarm, uvicorn_argv
from bench.stats import summary_ms


async def http_ceiling(logs: Path, duration_s: float, connections: int) -> dict[str, object]:
    port = free_port()
    server = start_server("bare-http", uvicorn_argv("bench.bare_http:app", port), logs, port=port)
    body = b'{"object":"whatsapp_business_account","entry":[]}' + b" " * 900
    raw = build_request("POST", "127.0.0.1", "/webhook", {"Content-Type": "application/json"}, body)
    try:
        result = await closed_loop(
            "127.0.0.1", port, lambda _i: raw, duration_s=duration_s, connections=connections
        )
    finally:
        server.stop()
    return {
        "requests_per_s": round(result.throughput),
        "errors": result.errors,
        **summary_ms(result.latencies_s),
    }


async def broker_ceiling(bootstrap: str, messages: int = 50_000) -> dict[str, object]:
    topic = f"bench.ceiling.{int(time.time())}"
    value = b"x" * 600
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_batch_size=256 * 1024
    )
    await producer.start()
    start = time.perf_counter()
    try:
        futures = [await producer.send(topic, value) for _ in range(messages)]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    produced_s = time.perf_counter() - start
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    got = 0
    start = time.perf_counter()
    try:
        while got < messages:
            for records in (await consumer.getmany(timeout_ms=1000, max_records=5000)).values():
                got += len(records)
    finally:
        await consumer.stop()
    consumed_s = time.perf_counter() - start
    return {
        "produce_per_s": round(messages / produced_s),
        "consume_per_s": round(messages / consumed_s),
        "messages": messages,
    }


# Frames per fan-out run, to 1,000 clients: enough that the first frames' latency (a Kafka
# round trip for the gateway) does not dominate the span measured.
FANOUT_FRAMES = 60


async def fanout_ceiling(
    logs: Path, clients: int, frames: int, *, compression: str = "none", shared: bool = False
) -> dict[str, object]:
    """A bare broadcast to ``clients`` (``bench.ws_bare_server``): ``shared`` the strongest this
    machine does (frames encoded once, several per write); otherwise `websockets`' broadcast,
    and with ``compression`` "deflate" what per-connection compression costs."""
    import sys

    port = free_port()
    argv = [sys.executable, "-m", "bench.ws_bare_server", "--port", str(port)]
    argv += ["--compression", compression, *(["--shared"] if shared else [])]
    name = f"ws-bare-{compression}{'-shared' if shared else ''}"
    server = start_server(name, argv, logs, port=port)
    url = f"ws://127.0.0.1:{port}"

    async def go() -> None:
        async with connect(url) as control:
            await control.send(f"go {frames}")
            await control.recv()

    try:
        return await swarm(url, clients, frames, "bare", ["subscribe"], go)
    finally:
        server.stop()
