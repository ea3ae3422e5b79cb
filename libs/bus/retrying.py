"""How a failed handler is retried, shared by both consumers (``bus.consumer`` and the
dispatcher's lanes): an infrastructure fault (``bus.transient``) is waited out for as long as it
lasts, with the ``consumer_waiting_on_infrastructure`` gauge up (readiness reads it); a fault of
the record is not retried; anything else ``max_attempts`` times, with exponential backoff."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

import structlog
from prometheus_client import Counter, Gauge
from tenacity import AsyncRetrying, RetryCallState, wait_exponential_jitter

from bus.transient import Fault, classify

log = structlog.get_logger(__name__)

WAITING = Gauge(
    "consumer_waiting_on_infrastructure",
    "Records (batches) of this group whose handler is waiting out an infrastructure fault.",
    ["group"],
)
INFRA_RETRIES = Counter(
    "consumer_infrastructure_retries_total",
    "Handler attempts that failed on an infrastructure fault and will be retried.",
    ["group", "error"],
)
Sleep = Callable[[float], Awaitable[None]]
T = TypeVar("T")


class RetryOptions(Protocol):
    """What both consumers (this one and the dispatcher's lanes) retry and dead-letter by."""

    @property
    def group_id(self) -> str: ...
    @property
    def max_attempts(self) -> int: ...
    @property
    def retry_initial_s(self) -> float: ...
    @property
    def retry_max_s(self) -> float: ...


def retrying(options: RetryOptions, *, sleep: Sleep = asyncio.sleep) -> AsyncRetrying:
    """A handler's retries, exponential backoff with jitter up to ``retry_max_s``: an
    infrastructure fault is retried for as long as it lasts, a fault of the record not at all,
    anything else ``max_attempts`` times in all. ``sleep`` waits between attempts."""

    def stop(state: RetryCallState) -> bool:
        failure = state.outcome.exception() if state.outcome is not None else None
        fault = classify(failure) if failure is not None else Fault.UNKNOWN
        if fault is Fault.INFRASTRUCTURE:
            return False
        return fault is Fault.RECORD or state.attempt_number >= options.max_attempts

    def before_sleep(state: RetryCallState) -> None:
        failure = state.outcome.exception() if state.outcome is not None else None
        if failure is not None and classify(failure) is Fault.INFRASTRUCTURE:
            INFRA_RETRIES.labels(options.group_id, type(failure).__name__).inc()
            log.warning(
                "waiting out an infrastructure fault",
                group=options.group_id,
                attempt=state.attempt_number,
                wait_s=round(state.upcoming_sleep, 2),
                error=repr(failure)[:300],
            )

    return AsyncRetrying(
        stop=stop,
        wait=wait_exponential_jitter(multiplier=options.retry_initial_s, max=options.retry_max_s),
        before_sleep=before_sleep,
        sleep=sleep,
        reraise=True,
    )


async def with_retries(
    options: RetryOptions, call: Callable[[], Awaitable[T]], *, sleep: Sleep = asyncio.sleep
) -> T:
    """``call`` under ``retrying``; while it waits out an infrastructure fault, the group's
    ``consumer_waiting_on_infrastructure`` gauge counts it (readiness reads it)."""
    waiting = False
    try:
        async for attempt in retrying(options, sleep=sleep):
            with attempt:
                result = await call()
            outcome = attempt.retry_state.outcome
            failure = outcome.exception() if outcome is not None and outcome.failed else None
            if failure is None:
                return result
            if not waiting and classify(failure) is Fault.INFRASTRUCTURE:
                waiting = True
                _WAITING_NOW[options.group_id] = _WAITING_NOW.get(options.group_id, 0) + 1
                WAITING.labels(options.group_id).inc()
    finally:
        if waiting:
            _WAITING_NOW[options.group_id] -= 1
            WAITING.labels(options.group_id).dec()
            log.info("infrastructure fault over, handling again", group=options.group_id)
    raise AssertionError("tenacity ends with a result or the last exception")  # unreachable


_WAITING_NOW: dict[str, int] = {}


def waiting_on_infrastructure(group: str) -> bool:
    """True while a handler of ``group`` in this process waits out an infrastructure fault
    (the workers' /readyz reports not ready then)."""
    return _WAITING_NOW.get(group, 0) > 0
