"""The per-number pace shared by every dispatcher process (migration 0006, sharedpace.py) on
the real Postgres: slots after a burst come at the rate, a 429's pause moves every later slot
past it, and what one take costs (``-s`` prints it; no timing is asserted)."""

import asyncio
import time
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest

from contracts import Provider
from dispatcher.calls import ProviderCalls, RetryPolicy
from dispatcher.ratelimit import Buckets, RateLimits, shape_for
from dispatcher.sharedpace import SharedPace
from tests.dispatcher.conftest import Wired

RATE = 20.0  # a burst of 5


async def _take(pool: asyncpg.Pool, wired: Wired) -> float:
    async with pool.acquire() as conn:
        wait: float = await conn.fetchval(
            "SELECT take_send_slot($1, $2, $3)",
            wired.integration_id,
            RATE,
            shape_for(RATE).capacity,
        )
    return wait


async def test_slots_after_the_burst_come_at_the_rate(
    wire: Callable[..., Any], app_pool: asyncpg.Pool
) -> None:
    w: Wired = await wire(Provider.META)
    burst = int(shape_for(RATE).capacity)
    started = time.monotonic()
    waits = [await _take(app_pool, w) for _ in range(burst + 10)]
    elapsed = time.monotonic() - started
    assert waits[:burst] == [0.0] * burst
    for k, wait in enumerate(waits[burst:], start=1):
        # The k-th slot past the burst is k/RATE after the first take (less the time spent).
        assert k / RATE - elapsed - 0.01 <= wait <= k / RATE + 0.01, (k, wait)


async def test_a_pause_moves_every_later_slot_past_it_without_a_burst(
    wire: Callable[..., Any], app_pool: asyncpg.Pool
) -> None:
    w: Wired = await wire(Provider.META)
    async with app_pool.acquire() as conn:
        assert await conn.fetchval("SELECT send_pause_left($1)", w.integration_id) == 0
    await SharedPace(app_pool).hold(w.integration_id, 2.0, RATE)
    async with app_pool.acquire() as conn:
        left = await conn.fetchval("SELECT send_pause_left($1)", w.integration_id)
    assert 1.5 < left <= 2.0
    first, second = await _take(app_pool, w), await _take(app_pool, w)
    assert 1.5 < first <= 2.0
    assert second - first == pytest.approx(1 / RATE, abs=0.02)  # at the rate, not a burst


async def _takes_per_s(limits: RateLimits, w: Wired, lanes: int, per_lane: int) -> float:
    calls = ProviderCalls(RetryPolicy(1, 0.1, 0.1, 1.0), limits, concurrency=lanes)

    async def nothing() -> None:
        return None

    async def lane() -> None:
        for _ in range(per_lane):
            await calls.run(
                provider="meta", integration_id=w.integration_id, rate_per_s=1e6, attempt=nothing
            )

    started = time.monotonic()
    await asyncio.gather(*(lane() for _ in range(lanes)))
    return lanes * per_lane / (time.monotonic() - started)


async def test_what_a_take_costs(wire: Callable[..., Any], app_pool: asyncpg.Pool) -> None:
    w: Wired = await wire(Provider.META)
    lanes, per_lane = 32, 50
    local = await _takes_per_s(Buckets(), w, lanes, per_lane)
    shared = await _takes_per_s(SharedPace(app_pool), w, lanes, per_lane)
    print(  # the figure README.md quotes
        f"\npace takes/s with {lanes} lanes, no wait: in-process {local:.0f}, shared {shared:.0f}"
        f" ({1000 / shared * lanes:.2f} ms per take per lane)"
    )
    assert local > 0 and shared > 0
