"""A second dispatcher joining mid-flow: partitions move between live processes, and the one
giving them up finishes its in-flight sends first, so no message ends "outcome unknown" and
none reaches the provider twice."""

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import asyncpg

from bus.consumer import Received
from config.shared import KafkaSettings
from contracts import Provider, topics
from contracts.outbound import OutboundText
from db.tenant import tenant_tx
from dispatcher.deps import Deps
from dispatcher.lanes import LaneConsumer, LaneOptions
from dispatcher.worker import handle_record
from tests.dispatcher.conftest import Sim, Wired, new_conversation, publish, queue, wait_until


async def test_a_process_joining_mid_flow_takes_over_without_double_sends(
    wire: Callable[..., Any],
    sim: Sim,
    app_pool: asyncpg.Pool,
    kafka_settings: KafkaSettings,
    deps: Deps,
) -> None:
    w: Wired = await wire(Provider.META, rate_limit_per_s=40)
    conversations = [await new_conversation(app_pool, w) for _ in range(24)]
    events = [
        await queue(app_pool, conversations[i % 24], OutboundText(body=f"rebalance-{i}"))
        for i in range(240)
    ]

    handled: Counter[str] = Counter()

    def ours(name: str) -> Callable[[Received], Any]:
        async def handle(received: Received) -> None:
            if received.event.tenant_id == w.tenant_id:
                await handle_record(deps, received)
                handled[name] += 1

        return handle

    group = f"dispatcher-rebalance-{uuid4().hex[:8]}"
    options = LaneOptions(group_id=group, poll_timeout_ms=50, extra={"session_timeout_ms": 6000})
    first = LaneConsumer(kafka_settings, topics.OUTBOUND, ours("first"), deps.publisher, options)
    second = LaneConsumer(kafka_settings, topics.OUTBOUND, ours("second"), deps.publisher, options)
    stop = asyncio.Event()

    async def sent_count() -> int:
        async with tenant_tx(app_pool, w.tenant_id) as conn:
            n: int = await conn.fetchval(
                "SELECT count(*) FROM messages WHERE status <> 'queued' AND direction = 'outbound'"
            )
        return n

    await first.start()
    runs = [asyncio.create_task(first.run(stop))]
    try:
        await publish(deps.publisher, events)

        async def flowing() -> bool:
            return await sent_count() >= 20

        await wait_until(flowing)
        await second.start()  # joins the group: partitions move while sends are in flight
        runs.append(asyncio.create_task(second.run(stop)))

        async def all_done() -> bool:
            return await sent_count() == len(events)

        await wait_until(all_done, timeout_s=90)
    finally:
        stop.set()
        await asyncio.gather(*runs)
        await first.stop()
        await second.stop()

    async with tenant_tx(app_pool, w.tenant_id) as conn:
        rows = await conn.fetch(
            "SELECT status, error_code FROM messages WHERE direction = 'outbound'"
        )
    assert Counter(r["status"] for r in rows) == {"sent": len(events)}
    bodies = Counter(
        r["body"]["text"]["body"] for r in await sim.control.sends(account_id=w.account)
    )
    assert max(bodies.values()) == 1 and len(bodies) == len(events)
