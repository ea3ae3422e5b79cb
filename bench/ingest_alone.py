"""ingest-api alone against the bare HTTP ceiling: signed Meta webhooks, closed loop.

It runs on an infrastructure of its own, with only ingest-api started (nothing consumes what
it publishes): the embedded broker (Tansu 0.6, in memory) costs more CPU per request the more
it holds, so sharing the system benchmark's broker would measure how full that broker is
rather than the HTTP edge. Rounds alternate with the bare ceiling and the ratio is the median
of each round's ratio to the ceiling round just before it: this machine's speed swings by tens
of percent from one minute to the next, and a pair of adjacent rounds shares it.

Both sides get the same closed loop of ``CONNECTIONS`` connections. ingest-api answers once the
broker has acknowledged, and it sends the records of all the webhooks waiting at that moment in
one produce request (one batch per partition), so its cost per webhook depends on how many
webhooks are in flight. In production that number is the rate times the provider's round trip
(Little's law): 1,000 webhooks/s over a 50 ms internet round trip is 50 in flight, 6,000/s is
300. Loopback's round trip is far shorter, so the loop holds the concurrency the inbound
benchmark already uses (``open_loop``'s 128 connections); one pair of rounds at 32 connections
is reported beside it (``low_concurrency``).

A second ingest-api publishes through FastStream's publisher (``INGEST_PUBLISHER=faststream``,
as every other service does) instead of the round publisher; each round measures it right
after the round publisher's, against the same ceiling round (``faststream_publisher``).
"""

import asyncio
import itertools
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg

from bench.ceilings import http_ceiling
from bench.http_load import build_request, closed_loop
from bench.report import ratio
from bench.running import create_tenant
from bench.stats import summary_ms
from bench.system import meta_webhook
from credentials import Vault, new_key
from db.provision import insert_integration
from devstack.services import ServiceSet
from devstack.settings import StackSettings
from devstack.stack import Stack
from providers.meta.verify import sign

MAX_RATE = 9000  # webhooks/s built ahead for a round (about the bare ceiling)
CONNECTIONS = 128
LOW_CONNECTIONS = 32
ACCOUNT = "bench-ingest-alone"
_numbers = itertools.count(5 * 10**7, 10**6)  # each round numbers its own webhooks


async def _round(
    port: int, key: str, app_secret: str, duration_s: float, connections: int = CONNECTIONS
) -> dict[str, Any]:
    path = f"/webhooks/meta/{key}"
    first = next(_numbers)
    # Built before the clock starts, as the ceiling's request is: the generator then costs
    # the same per request against both servers.
    requests = [
        build_request(
            "POST",
            "127.0.0.1",
            path,
            {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, app_secret)},
            body,
        )
        for body in (
            meta_webhook(ACCOUNT, first + i, time.time()) for i in range(int(duration_s * MAX_RATE))
        )
    ]
    result = await closed_loop(
        "127.0.0.1",
        port,
        lambda i: requests[i % len(requests)],
        duration_s=duration_s,
        connections=connections,
    )
    return {
        "requests_per_s": round(result.throughput),
        "completed": result.completed,
        "errors": result.errors,
        **summary_ms(result.latencies_s),
    }


async def measure(root: Path, logs: Path, *, quick: bool) -> dict[str, Any]:
    stack = Stack(StackSettings(), root / "ingest-alone")
    endpoints = await asyncio.to_thread(stack.start)
    credential_key = new_key()
    env = {
        **os.environ,
        **endpoints.env(),
        "JWT_SECRET": "unused-by-ingest-api-but-required-xx",
        "CREDENTIAL_KEYS": credential_key,
        "LOG_FORMAT": "json",
    }
    service = ServiceSet(["ingest-api"], env, logs / "ingest-alone", sys.executable)
    streamed = ServiceSet(
        ["ingest-api"],
        {**env, "INGEST_PUBLISHER": "faststream"},
        logs / "ingest-alone-faststream",
        sys.executable,
    )
    try:
        await asyncio.to_thread(stack.prepare)
        await asyncio.to_thread(service.start)
        await asyncio.to_thread(streamed.start)
        tenant_id = await create_tenant(endpoints.database_url)
        app_secret = "bench-app-secret"
        conn = await asyncpg.connect(endpoints.database_url)
        async with conn.transaction():
            await conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant_id))
            row = await insert_integration(
                conn,
                Vault([credential_key]),
                tenant_id=tenant_id,
                provider="meta",
                external_account_id=ACCOUNT,
                credentials={"app_secret": app_secret, "access_token": "unused"},
            )
        await conn.close()
        port = int(service.urls["ingest-api"].rsplit(":", 1)[1])
        streamed_port = int(streamed.urls["ingest-api"].rsplit(":", 1)[1])
        rounds, seconds = (1, 5) if quick else (5, 6)
        key = row["webhook_key"]
        edge: list[dict[str, Any]] = []
        via_faststream: list[dict[str, Any]] = []
        bare: list[float] = []
        await _round(port, key, app_secret, 2)  # warm the route caches
        await _round(streamed_port, key, app_secret, 2)
        for _ in range(rounds):
            bare.append(_rate(await http_ceiling(logs, seconds, connections=CONNECTIONS)))
            edge.append(await _round(port, key, app_secret, seconds))
            via_faststream.append(await _round(streamed_port, key, app_secret, seconds))
        low_bare = _rate(await http_ceiling(logs, seconds, connections=LOW_CONNECTIONS))
        low = await _round(port, key, app_secret, seconds, LOW_CONNECTIONS)
    finally:
        streamed.stop()
        service.stop()
        stack.stop()
    ratios = [ratio(r["requests_per_s"], c) or 0.0 for r, c in zip(edge, bare, strict=True)]
    middle = sorted(range(len(edge)), key=lambda i: ratios[i])[len(edge) // 2]
    fs_ratios = [
        ratio(r["requests_per_s"], c) or 0.0 for r, c in zip(via_faststream, bare, strict=True)
    ]
    return {
        **edge[middle],
        "connections": CONNECTIONS,
        "completed": sum(r["completed"] for r in edge),
        "errors": sum(r["errors"] for r in edge),
        "rounds": [r["requests_per_s"] for r in edge],
        "ceiling_rounds": bare,
        "round_ratios": ratios,
        "paired_ceiling_requests_per_s": round(bare[middle]),
        "ratio_to_http_ceiling": ratios[middle],
        "ceiling_median_requests_per_s": round(statistics.median(bare)),
        "faststream_publisher": {
            "requests_per_s": round(statistics.median(r["requests_per_s"] for r in via_faststream)),
            "errors": sum(r["errors"] for r in via_faststream),
            "round_ratios": fs_ratios,
            "ratio_to_http_ceiling": round(statistics.median(fs_ratios), 3),
        },
        "low_concurrency": {
            "connections": LOW_CONNECTIONS,
            "requests_per_s": low["requests_per_s"],
            "ceiling_requests_per_s": round(low_bare),
            "ratio_to_http_ceiling": ratio(low["requests_per_s"], low_bare),
        },
    }


def _rate(ceiling: dict[str, object]) -> float:
    return float(str(ceiling["requests_per_s"]))
