"""Riding out a database blip while recording an outcome.

Once the provider has answered, the outcome must reach the row: a send the provider accepted
must not end 'unknown' (or be retried by a redelivery that then finds its claim standing)
because Postgres dropped the connection for a moment. Recording is idempotent (forward-only
updates guarded by the row's state), so it is simply done again, with backoff, for a bounded
time, on the errors that say "the database was briefly unavailable" and nothing about the
data.
"""

from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
import structlog
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_delay,
    wait_exponential_jitter,
)

log = structlog.get_logger(__name__)

T = TypeVar("T")

TRANSIENT: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # class 08: the connection is gone or never came up
    asyncpg.InterfaceError,  # "connection is closed" / released mid-use
    # A connection whose backend died mid-statement can be left between protocol states
    # ("cannot switch to state ...; another operation is in progress"); the pool drops it.
    asyncpg.InternalClientError,
    asyncpg.OperatorInterventionError,  # class 57: admin shutdown, terminated backend, restart
    asyncpg.InsufficientResourcesError,  # class 53: too many connections, out of memory
    asyncpg.TransactionRollbackError,  # class 40: serialization failure, deadlock
    OSError,  # connection refused while the server restarts
    TimeoutError,  # a command or connect timed out
)


async def retrying(what: str, action: Callable[[], Awaitable[T]], *, within_s: float) -> T:
    """``action()`` until it succeeds, a non-transient error is raised, or ``within_s`` seconds
    have passed (then the last transient error is raised)."""

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        log.warning(
            "database unavailable while recording an outcome, retrying",
            what=what,
            attempt=state.attempt_number,
            error=repr(error),
        )

    try:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(TRANSIENT),
            stop=stop_after_delay(within_s),
            wait=wait_exponential_jitter(multiplier=0.05, max=2.0, jitter=0.1),
            before_sleep=before_sleep,
            reraise=True,
        ):
            with attempt:
                return await action()
    except Exception as exc:
        log.error("recording an outcome failed", what=what, error=repr(exc))
        raise
    raise AssertionError("tenacity ends with a result or the last exception")  # unreachable
