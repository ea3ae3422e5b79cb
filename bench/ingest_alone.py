"""ingest-api alone against the bare HTTP ceiling: signed Meta webhooks, closed loop.

It runs on an infrastructure of its own, with only ingest-api started (nothing consumes what
it publishes): the embedded broker (Tansu 0.6, in memory) costs more CPU per request the more
it holds, so sharing the system benchmark's broker would measure how full that broker is
rather than the HTTP edge. Rounds alternate with the bare ceiling and each figure is the median
of its rounds, so a machine that slows down for a while slows both sides of the ratio.
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
from bench.stats import summary_ms
from bench.system import create_tenant, meta_webhook
from credentials import Vault, new_key
from db.provision import insert_integration
from devstack.services import ServiceSet
from devstack.settings import StackSettings
from devstack.stack import Stack
from providers.meta.verify import sign

MAX_RATE = 9000  # webhooks/s built ahead for a round (about the bare ceiling)
ACCOUNT = "bench-ingest-alone"
_numbers = itertools.count(5 * 10**7, 10**6)  # each round numbers its own webhooks


async def _round(port: int, key: str, app_secret: str, duration_s: float) -> dict[str, Any]:
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
        connections=32,
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
    try:
        await asyncio.to_thread(stack.prepare)
        await asyncio.to_thread(service.start)
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
        rounds, seconds = (1, 5) if quick else (3, 8)
        edge: list[dict[str, Any]] = []
        bare: list[float] = []
        await _round(port, row["webhook_key"], app_secret, 2)  # warm the route cache
        for _ in range(rounds):
            ceiling = await http_ceiling(logs, seconds, connections=32)
            bare.append(float(str(ceiling["requests_per_s"])))
            edge.append(await _round(port, row["webhook_key"], app_secret, seconds))
    finally:
        service.stop()
        stack.stop()
    middle = sorted(edge, key=lambda r: r["requests_per_s"])[len(edge) // 2]
    bare_median = statistics.median(bare)
    return {
        **middle,
        "completed": sum(r["completed"] for r in edge),
        "rounds": [r["requests_per_s"] for r in edge],
        "ceiling_rounds": bare,
        "paired_ceiling_requests_per_s": round(bare_median),
        "ratio_to_http_ceiling": ratio(middle["requests_per_s"], bare_median),
    }
