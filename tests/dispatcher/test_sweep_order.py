"""The stuck-message sweep running hard while a slow number drains a backlog: its republished
copies carry the gateway's key, so they queue behind their conversation's earlier sends
instead of jumping them; every message reaches the provider once, in order per conversation,
one call at a time per conversation, and none is failed while its call is in flight.

The provider answers each send after CALL_S, so two calls of one conversation in flight at
once (a copy in another lane racing its original) show as two answers closer than CALL_S."""

import asyncio
import contextlib
import itertools
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest
from prometheus_client import REGISTRY

from contracts import Provider, SendRequested
from contracts.outbound import OutboundText
from db.tenant import tenant_tx
from dispatcher.settings import DispatcherSettings
from dispatcher.sweep import sweep_tenant
from tests.dispatcher.conftest import Dispatcher, Sim, Wired, new_conversation, queue

# The shape (a number at 1/s, 300 messages) scaled to prove it in about a minute: a
# backlog that takes ~40 s to drain, many messages per conversation, and a sweep that every
# 2 s republishes everything queued longer than 4 s (each message many times over).
RATE_PER_S = 5
CONVERSATIONS = 8
PER_CONVERSATION = 25
CALL_S = 0.5
SWEEP = DispatcherSettings(
    sweep_interval_s=2, requeue_after_s=4, fail_after_s=900, unknown_after_s=300
)


def _republished() -> float:
    return REGISTRY.get_sample_value("dispatcher_sweep_total", {"action": "republish"}) or 0.0


@pytest.mark.timeout(240)
async def test_a_sweep_republishing_a_slow_backlog_keeps_each_chat_in_order_and_sends_once(
    wire: Callable[..., Any],
    sim: Sim,
    app_pool: asyncpg.Pool,
    dispatcher: Dispatcher,
) -> None:
    w: Wired = await wire(Provider.META, rate_limit_per_s=RATE_PER_S)
    chats = [await new_conversation(app_pool, w) for _ in range(CONVERSATIONS)]
    events: list[SendRequested] = []
    for i in range(PER_CONVERSATION):
        for n, chat in enumerate(chats):
            events.append(await queue(app_pool, chat, OutboundText(body=f"{n}:{i}")))
    republished_before = _republished()
    stop = asyncio.Event()

    async def sweeping() -> None:
        # The dispatcher's sweep loop, over this test's tenant only (the session database
        # holds other tests' queued messages).
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=SWEEP.sweep_interval_s)
            await sweep_tenant(dispatcher.deps, SWEEP, w.tenant_id)

    await sim.control.fault(
        "slow", provider=Provider.META, endpoint="send", times=None, delay_s=CALL_S
    )
    sweeper = asyncio.create_task(sweeping())
    try:
        await dispatcher.run(events, [w.tenant_id], timeout_s=180)
    finally:
        stop.set()
        await sweeper
        await sim.control.clear_faults()

    assert _republished() - republished_before >= len(events), "the sweep hardly ran"
    recorded = sorted(await sim.control.sends(account_id=w.account), key=lambda r: r["seq"])
    assert all(r["answered"] == 200 for r in recorded)
    bodies = [r["body"]["text"]["body"] for r in recorded]
    assert [b for b, n in Counter(bodies).items() if n > 1] == [], "received more than once"
    assert sorted(bodies) == sorted(
        f"{n}:{i}" for i in range(PER_CONVERSATION) for n in range(CONVERSATIONS)
    )
    per_chat: dict[str, list[int]] = defaultdict(list)
    answered_at: dict[str, list[float]] = defaultdict(list)
    for r in recorded:
        chat, i = r["body"]["text"]["body"].split(":")
        per_chat[chat].append(int(i))
        answered_at[chat].append(r["at"])
    assert all(order == list(range(PER_CONVERSATION)) for order in per_chat.values()), per_chat
    overlaps = [
        (chat, round(b - a, 3))
        for chat, times in answered_at.items()
        for a, b in itertools.pairwise(times)
        if b - a < CALL_S - 0.05
    ]
    assert overlaps == [], "calls of one conversation were in flight at once"
    async with tenant_tx(app_pool, w.tenant_id) as conn:
        statuses = await conn.fetch("SELECT status, count(*) AS n FROM messages GROUP BY status")
    assert {r["status"]: r["n"] for r in statuses} == {"sent": len(events)}
