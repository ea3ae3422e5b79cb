"""How long to wait before the next attempt at a provider, as a tenacity wait strategy.

Retryable failures back off exponentially with jitter; a ``RateLimited`` failure that carries
the provider's hint waits at least that long (capped, so a silly hint cannot park a
conversation for hours).

Every wait of a send (backoff, Retry-After, a token, another attempt's claim) goes through
``pause``, which ends the moment the process is told to stop.
"""

import asyncio
import contextlib

from tenacity import RetryCallState
from tenacity.wait import wait_base, wait_exponential_jitter

from providers.errors import RateLimited


def wait_for_hint(hint_s: float | None, backoff_s: float, cap_s: float) -> float:
    """Pure: the wait after a failure whose retry hint is ``hint_s``."""
    if hint_s is None:
        return backoff_s
    return min(max(hint_s, 0.0), cap_s)


class ProviderWait(wait_base):
    def __init__(self, *, initial_s: float, max_s: float, max_hint_s: float) -> None:
        self._backoff = wait_exponential_jitter(multiplier=initial_s, max=max_s, jitter=initial_s)
        self._max_hint_s = max_hint_s

    def __call__(self, retry_state: RetryCallState) -> float:
        backoff = self._backoff(retry_state)
        outcome = retry_state.outcome
        failure = outcome.exception() if outcome is not None else None
        hint = failure.retry_after_s if isinstance(failure, RateLimited) else None
        return wait_for_hint(hint, backoff, self._max_hint_s)


class Interrupted(Exception):
    """The process is stopping and a wait was cut short: the record in hand is left
    uncommitted (it comes back to whoever consumes next), and no claim stands for it."""


async def pause(stop: asyncio.Event | None, seconds: float) -> None:
    """Sleep ``seconds``, or raise ``Interrupted`` as soon as ``stop`` is set (already set
    included): a SIGTERM must not sit out a 60 s Retry-After or a token wait."""
    if stop is None:
        await asyncio.sleep(seconds)
        return
    if stop.is_set():
        raise Interrupted
    if seconds <= 0:
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    if stop.is_set():
        raise Interrupted
