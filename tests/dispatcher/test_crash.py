"""The dispatcher process killed (SIGKILL) again and again while 1,000 sends flow: the provider
never gets a message twice, and every message ends 'sent' or 'failed' with a reason."""

import asyncio
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from contracts import Provider, SendRequested
from contracts.outbound import OutboundText
from db.tenant import tenant_tx
from simulator.server import free_port
from tests.conftest import egress_allow
from tests.dispatcher.conftest import Sim, Wired, new_conversation, publish, queue, wait_until

MESSAGES = 1000
CONVERSATIONS = 50
KILLS = 3


def _start(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "omnicli", "run", "dispatcher"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _counts(pool: asyncpg.Pool, tenant_id: UUID) -> dict[str, int]:
    async with tenant_tx(pool, tenant_id) as conn:
        rows = await conn.fetch(
            "SELECT status, count(*) AS n FROM messages WHERE direction = 'outbound' "
            "GROUP BY status"
        )
    return {r["status"]: r["n"] for r in rows}


def _text(body: dict[str, Any]) -> str:
    return str(body["text"]["body"] if "text" in body else body["message"])


@pytest.mark.timeout(240)
async def test_sigkill_in_a_loop_never_sends_twice_and_leaves_nothing_queued(
    wire: Callable[..., Any],
    sim: Sim,
    app_pool: asyncpg.Pool,
    stack_env: dict[str, str],
    make_tenant: Any,
    deps: Any,
) -> None:
    tenant = await make_tenant()
    meta: Wired = await wire(Provider.META, tenant_id=tenant, rate_limit_per_s=100)
    zapi: Wired = await wire(Provider.ZAPI, tenant_id=tenant, rate_limit_per_s=100)
    conversations = [
        await new_conversation(app_pool, meta if i % 2 else zapi) for i in range(CONVERSATIONS)
    ]
    events: list[SendRequested] = []
    for i in range(MESSAGES):
        conversation = conversations[i % CONVERSATIONS]
        events.append(await queue(app_pool, conversation, OutboundText(body=f"crash-{i}")))
    env = {
        **stack_env,
        "OPS_PORT": str(free_port()),
        "DISPATCHER_GROUP_ID": f"dispatcher-crash-{uuid4().hex[:8]}",
        "DISPATCHER_SWEEP_INTERVAL_S": "3600",  # redelivery alone must finish every message
        "DISPATCHER_SESSION_TIMEOUT_MS": "3000",
        # A claim a killed process left stands this long before its outcome counts as unknown
        # (until then the next owner waits for it, as for a call in flight).
        "DISPATCHER_UNKNOWN_AFTER_S": "8",
        "LOG_LEVEL": "WARNING",
        "PROVIDER_EGRESS_ALLOW": egress_allow(sim.base_url),
    }
    await publish(deps.publisher, events)

    kills_mid_flow = 0
    process: subprocess.Popen[bytes] | None = None
    try:
        for _ in range(KILLS):
            process = _start(env)
            before = (await _counts(app_pool, tenant)).get("queued", 0)

            async def flowing(before: int = before) -> bool:
                return (await _counts(app_pool, tenant)).get("queued", 0) < before - 20

            # Kill only once this process is sending, at a random moment of the flow.
            await wait_until(flowing, timeout_s=60)
            await asyncio.sleep(random.uniform(0.0, 0.5))
            process.send_signal(signal.SIGKILL)
            await asyncio.to_thread(process.wait)
            if (await _counts(app_pool, tenant)).get("queued", 0) > 0:
                kills_mid_flow += 1
        process = _start(env)

        async def nothing_queued() -> bool:
            return (await _counts(app_pool, tenant)).get("queued", 0) == 0

        await wait_until(nothing_queued, timeout_s=150)
        # The operator's view of the same run: ready, and the sends counted by outcome.
        ops = f"http://127.0.0.1:{env['OPS_PORT']}"
        async with httpx.AsyncClient(timeout=5) as client:
            assert (await client.get(f"{ops}/readyz")).status_code == 200
            metrics = (await client.get(f"{ops}/metrics")).text
        samples = {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(metrics)
            for sample in family.samples
        }
        sent = (("outcome", "sent"), ("provider", "meta"))
        assert samples[("dispatcher_sends_total", sent)] > 0
        assert samples[("dispatcher_send_latency_seconds_count", (("provider", "meta"),))] > 0
        process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(process.wait, 30) == 0  # a clean, graceful stop
    finally:
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()

    recorded = [
        r
        for account in (meta.account, zapi.account)
        for r in await sim.control.sends(account_id=account)
        if r["answered"] == 200
    ]
    twice = [text for text, n in Counter(_text(r["body"]) for r in recorded).items() if n > 1]
    assert twice == [], "the provider received these messages more than once"
    recorded_ids = {r["provider_message_id"] for r in recorded}

    async with tenant_tx(app_pool, tenant) as conn:
        rows = await conn.fetch(
            "SELECT status, provider_message_id, error_reason FROM messages "
            "WHERE direction = 'outbound'"
        )
    assert len(rows) == MESSAGES
    statuses = Counter(r["status"] for r in rows)
    # A kill mid-call leaves "may have been sent" ('unknown'), never 'failed' or a resend.
    assert set(statuses) <= {"sent", "unknown"}, statuses
    assert all(r["error_reason"] for r in rows if r["status"] == "unknown")
    assert all(r["provider_message_id"] in recorded_ids for r in rows if r["status"] == "sent")
    assert kills_mid_flow > 0, "no kill landed while sends were flowing"
