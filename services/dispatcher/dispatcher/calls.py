"""One provider call with the dispatcher's discipline around it: the integration's token
bucket, the process's concurrency bound, and tenacity retries for what may succeed later.

``ProviderCalls.run`` takes the call as a coroutine factory, so a send (which claims and
releases the message row around each attempt) and a mark-as-read share the same policy.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar
from uuid import UUID

import structlog
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from dispatcher import metrics
from dispatcher.backoff import ProviderWait
from dispatcher.ratelimit import Buckets
from providers.errors import ProviderFailure, Retryable

log = structlog.get_logger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    initial_s: float
    max_s: float
    max_hint_s: float


class ProviderCalls:
    def __init__(self, policy: RetryPolicy, buckets: Buckets, concurrency: int) -> None:
        self._policy = policy
        self._buckets = buckets
        self._slots = asyncio.Semaphore(concurrency)

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

        retrying = AsyncRetrying(
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
                waited = await self._buckets.take(integration_id, rate_per_s)
                if waited > 0:
                    metrics.RATE_LIMIT_WAITS.labels(provider).inc()
                    metrics.RATE_LIMIT_WAIT_SECONDS.labels(provider).inc(waited)
                async with self._slots:
                    return await attempt()
        raise AssertionError("tenacity ends with a result or the last exception")  # unreachable
