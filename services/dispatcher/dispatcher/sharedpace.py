"""One send pace per WhatsApp number shared by every dispatcher process, kept in Postgres
(migration 0006: ``send_pacing`` and its functions), so three processes sending for one number
stay within its ``rate_limit_per_s`` together, and a 429's Retry-After pauses the number in
every process.

A take is one statement (``take_send_slot``): it reserves the number's next slot (a generic
cell rate algorithm: a token bucket kept as one timestamp, the same shape as ``shape_for``,
so up to a quarter second of sends at once after a quiet spell) and says how long to wait for it.
A send that had to wait asks once more whether a pause began meanwhile (``send_pause_left``);
if so it takes a new slot, which lies after the pause. Cost: one round trip per send that goes
at once, two per send that waited (README: Rate limits across processes).
"""

import asyncio
from uuid import UUID

import asyncpg

from dispatcher.backoff import pause
from dispatcher.ratelimit import shape_for


class SharedPace:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def take(
        self, integration_id: UUID, rate_per_s: float, stop: asyncio.Event | None = None
    ) -> float:
        burst = shape_for(rate_per_s).capacity
        waited = 0.0
        while True:
            async with self._pool.acquire() as conn:
                wait_s: float = await conn.fetchval(
                    "SELECT take_send_slot($1, $2, $3)", integration_id, rate_per_s, burst
                )
            if wait_s <= 0:
                return waited
            await pause(stop, wait_s)
            waited += wait_s
            async with self._pool.acquire() as conn:
                paused_s: float = await conn.fetchval("SELECT send_pause_left($1)", integration_id)
            if paused_s <= 0:
                return waited
            # The slot fell inside a pause another process recorded: it is given up (the
            # number sends that much slower afterwards) and a slot after the pause taken.

    async def hold(self, integration_id: UUID, seconds: float, rate_per_s: float) -> None:
        async with self._pool.acquire() as conn:
            await conn.execute(
                "SELECT pause_sends($1, $2, $3, $4)",
                integration_id,
                seconds,
                rate_per_s,
                shape_for(rate_per_s).capacity,
            )
