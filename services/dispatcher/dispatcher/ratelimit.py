"""One token bucket per integration (WhatsApp number), so one tenant's burst only ever waits on
its own number's bucket and never on a queue shared with other tenants.

Two implementations of ``RateLimits``: ``Buckets`` here, one process's own (used where one
process sends alone, e.g. in-process tests), and ``sharedpace.SharedPace``, one bucket per
number in Postgres shared by every dispatcher process (what ``omni run dispatcher`` uses).
Both have the same shape (``shape_for``) and honour a provider's 429 pause (``hold``).

Default rates per number (``docs/providers.md`` section 1.9):
- Meta Cloud API: 80 messages/s per registered number (1000 after an upgrade, 20 for numbers
  also used in the WhatsApp Business app: set ``integrations.rate_limit_per_s`` for those;
  https://developers.facebook.com/documentation/business-messaging/whatsapp/throughput).
- Evolution API (Baileys) and Z-API publish no throughput; WhatsApp bans numbers that send
  too fast and Z-API queues with 1-3 s between sends itself, so a cautious 20/s applies.
"""

import asyncio
import time
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from aiolimiter import AsyncLimiter

from contracts.common import Provider
from dispatcher.backoff import Interrupted, pause

DEFAULT_RATE_PER_S: dict[Provider, float] = {
    Provider.META: 80.0,
    Provider.EVOLUTION: 20.0,
    Provider.ZAPI: 20.0,
}


def rate_for(provider: Provider, configured: float | None, fallback: float | None = None) -> float:
    """The integration's own rate if set, else the process-wide fallback, else the provider's."""
    if configured is not None and configured > 0:
        return configured
    if fallback is not None and fallback > 0:
        return fallback
    return DEFAULT_RATE_PER_S[provider]


@dataclass(frozen=True)
class BucketShape:
    capacity: float  # tokens the bucket holds: the burst allowed after a quiet spell
    period_s: float  # time to refill the whole capacity


def shape_for(rate_per_s: float) -> BucketShape:
    """Pure: a bucket that refills at ``rate_per_s`` and holds a quarter second of sends (at
    least one token, so a rate below 4/s still lets one message through at a time). The burst
    is the capacity: the slots of any one-second window number at most ``rate + capacity``;
    at the provider, allow ``rate + allowance_for(rate)`` for the jitter between a slot and
    its call's arrival."""
    capacity = max(1.0, rate_per_s / 4)
    return BucketShape(capacity=capacity, period_s=capacity / rate_per_s)


def allowance_for(rate_per_s: float) -> float:
    """Pure: the sends beyond the rate a provider may see in one second: the burst, plus half
    a second of sends for calls that a claim transaction or a busy machine delayed between
    their slot and the provider, into a later window (documented in README.md, held by
    tests/dispatcher/test_replicas.py)."""
    return shape_for(rate_per_s).capacity + rate_per_s / 2


class RateLimits(Protocol):
    async def take(
        self, integration_id: UUID, rate_per_s: float, stop: asyncio.Event | None = None
    ) -> float:
        """Wait for the number's next send slot; returns how long that took. Raises
        ``Interrupted`` when ``stop`` is set meanwhile."""
        ...

    async def hold(self, integration_id: UUID, seconds: float, rate_per_s: float) -> None:
        """The provider said "too many requests, retry after ``seconds``": no send of this
        number starts before then."""
        ...


class Buckets:
    """The buckets of one process, created on first use and replaced if the rate changes."""

    def __init__(self) -> None:
        self._buckets: dict[UUID, tuple[float, AsyncLimiter]] = {}
        self._paused_until: dict[UUID, float] = {}

    def _bucket(self, integration_id: UUID, rate_per_s: float) -> AsyncLimiter:
        known = self._buckets.get(integration_id)
        if known is not None and known[0] == rate_per_s:
            return known[1]
        shape = shape_for(rate_per_s)
        limiter = AsyncLimiter(shape.capacity, shape.period_s)
        self._buckets[integration_id] = (rate_per_s, limiter)
        return limiter

    async def take(
        self, integration_id: UUID, rate_per_s: float, stop: asyncio.Event | None = None
    ) -> float:
        """Wait for one token; returns how long that took (0 when one was there)."""
        started = time.monotonic()
        paused = self._paused_until.get(integration_id, 0.0) - started
        if paused > 0:
            await pause(stop, paused)
        limiter = self._bucket(integration_id, rate_per_s)
        if limiter.has_capacity():
            await limiter.acquire()
        else:
            await _acquire_or_stop(limiter, stop)
        return time.monotonic() - started

    async def hold(self, integration_id: UUID, seconds: float, rate_per_s: float) -> None:
        until = time.monotonic() + seconds
        self._paused_until[integration_id] = max(self._paused_until.get(integration_id, 0), until)


async def _acquire_or_stop(limiter: AsyncLimiter, stop: asyncio.Event | None) -> None:
    if stop is None:
        await limiter.acquire()
        return
    acquire = asyncio.ensure_future(limiter.acquire())
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({acquire, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if not acquire.done():
        acquire.cancel()
        raise Interrupted
    acquire.result()
