"""The consumer of the outbound topic: thin. A polled batch is split by key (conversation);
each conversation's records run in order, conversations run side by side, and the batch
returns (so ``BatchConsumer`` commits its offsets) only when every record's outcome is durable.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence

import structlog

from bus.consumer import Received
from contracts import MarkReadRequested, SendRequested
from dispatcher.deps import Deps
from dispatcher.grouping import by_key
from dispatcher.markread import handle_mark_read
from dispatcher.send import handle_send
from telemetry.trace import trace_id

log = structlog.get_logger(__name__)


async def handle_record(deps: Deps, received: Received) -> None:
    event = received.event
    structlog.contextvars.bind_contextvars(trace_id=trace_id(event.traceparent))
    if isinstance(event, SendRequested):
        await handle_send(deps, received, event)
    elif isinstance(event, MarkReadRequested):
        await handle_mark_read(deps, received, event)


async def _in_order(deps: Deps, records: Sequence[Received]) -> None:
    for received in records:
        await handle_record(deps, received)


def batch_handler(deps: Deps) -> Callable[[Sequence[Received]], Awaitable[None]]:
    async def handle(batch: Sequence[Received]) -> None:
        groups = by_key(batch, lambda r: (r.key, r.partition))
        # gather, not a TaskGroup: one group's error must not cancel the others mid-call (a
        # cancelled send would leave its claim standing and end as "outcome unknown").
        results = await asyncio.gather(
            *(_in_order(deps, group) for group in groups), return_exceptions=True
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            # BatchConsumer retries the batch; records already finished do nothing again.
            log.warning("batch had failures", groups=len(groups), failed=len(errors))
            raise errors[0]

    return handle
