"""One provider call with the dispatcher's discipline around it: the integration's token
bucket, the process's concurrency bound, and tenacity retries for what may succeed later.

``ProviderCalls.run`` takes the call as a coroutine factory, so a send (which claims and
releases the message row around each attempt) and a mark-as-read share the same policy.

A 429 pauses the whole number (``RateLimits.hold``: in every process with the shared pace),
not only the conversation that met it. Every wait (the bucket, backoff, Retry-After) ends
when ``stop`` is set, raising ``Interrupted``; a call already in flight is seen through.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar
from uuid import UUID

import structlog
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from dispatcher import metrics
from dispatcher.backoff import ProviderWait, pause, wait_for_hint
from dispatcher.ratelimit import RateLimits
from providers.errors import ProviderFailure, RateLimited, Retryable

log = structlog.get_logger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    initial_s: float
    max_s: float
    max_hint_s: float


class ProviderCalls:
    def __init__(
        self,
        policy: RetryPolicy,
        buckets: RateLimits,
        concurrency: int,
        stop: asyncio.Event | None = None,
    ) -> None:
        self._policy = policy
        self._buckets = buckets
        self._slots = asyncio.Semaphore(concurrency)
        self._stop = stop

    @property
    def max_attempts(self) -> int:
        return self._policy.max_attempts

    async def run(
        self,
        *,
        provider: str,
        integration_id: UUID,
        rate_per_s: float,
        attempt: Callable[[], Awaitable[T]],
    ) -> T:
        """Run ``attempt`` until it succeeds, fails for good, or the attempts run out; the last
        failure is re-raised (a ``ProviderFailure`` or whatever ``attempt`` raised)."""

        def before_sleep(state: RetryCallState) -> None:
            failure = state.outcome.exception() if state.outcome is not None else None
            error_class = failure.error_class if isinstance(failure, ProviderFailure) else "other"
            metrics.RETRIES.labels(provider, error_class).inc()
            log.info(
                "provider call failed, retrying",
                provider=provider,
                attempt=state.attempt_number,
                wait_s=round(state.upcoming_sleep, 3),
                error=str(failure),
            )

        async def sleep(seconds: float) -> None:
            await pause(self._stop, seconds)

        retrying = AsyncRetrying(
            sleep=sleep,
            retry=retry_if_exception_type(Retryable),
            stop=stop_after_attempt(self._policy.max_attempts),
            wait=ProviderWait(
                initial_s=self._policy.initial_s,
                max_s=self._policy.max_s,
                max_hint_s=self._policy.max_hint_s,
            ),
            before_sleep=before_sleep,
            reraise=True,
        )
        async for try_ in retrying:
            with try_:
                # The bucket is waited on before a slot is taken, so conversations held back
                # by their own number's rate never occupy the slots other tenants need.
                waited = await self._buckets.take(integration_id, rate_per_s, self._stop)
                if waited > 0:
                    metrics.RATE_LIMIT_WAITS.labels(provider).inc()
                    metrics.RATE_LIMIT_WAIT_SECONDS.labels(provider).inc(waited)
                try:
                    async with self._slots:
                        return await attempt()
                except RateLimited as limited:
                    # The provider's limit is the number's, so every conversation of it pauses.
                    hold_s = wait_for_hint(
                        limited.retry_after_s, self._policy.initial_s, self._policy.max_hint_s
                    )
                    await self._buckets.hold(integration_id, hold_s, rate_per_s)
                    raise
        raise AssertionError("tenacity ends with a result or the last exception")  # unreachable
