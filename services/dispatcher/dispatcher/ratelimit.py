"""One token bucket per integration (WhatsApp number), so one tenant's burst only ever waits on
its own number's bucket and never on a queue shared with other tenants.

Default rates per number (``docs/providers.md``):
- Meta Cloud API: 80 messages/s per registered number (section 1.9; 1000 after an upgrade,
  20 for coexistence numbers: set ``integrations.rate_limit_per_s`` for those).
- Evolution API (Baileys) and Z-API publish no throughput; WhatsApp bans numbers that send
  too fast and Z-API queues with 1-3 s between sends itself, so a cautious 20/s applies.
"""

import time
from dataclasses import dataclass
from uuid import UUID

from aiolimiter import AsyncLimiter

from contracts.common import Provider

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
    """Pure: a bucket that refills at ``rate_per_s`` and holds about one second of sends (at
    least one token, so a rate below 1/s still lets one message through at a time)."""
    capacity = max(1.0, rate_per_s)
    return BucketShape(capacity=capacity, period_s=capacity / rate_per_s)


class Buckets:
    """The buckets of one process, created on first use and replaced if the rate changes."""

    def __init__(self) -> None:
        self._buckets: dict[UUID, tuple[float, AsyncLimiter]] = {}

    def _bucket(self, integration_id: UUID, rate_per_s: float) -> AsyncLimiter:
        known = self._buckets.get(integration_id)
        if known is not None and known[0] == rate_per_s:
            return known[1]
        shape = shape_for(rate_per_s)
        limiter = AsyncLimiter(shape.capacity, shape.period_s)
        self._buckets[integration_id] = (rate_per_s, limiter)
        return limiter

    async def take(self, integration_id: UUID, rate_per_s: float) -> float:
        """Wait for one token; returns how long that took (0 when one was there)."""
        limiter = self._bucket(integration_id, rate_per_s)
        if limiter.has_capacity():
            await limiter.acquire()
            return 0.0
        started = time.monotonic()
        await limiter.acquire()
        return time.monotonic() - started
