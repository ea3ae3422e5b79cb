"""Handing a request the dispatcher gave up on to the dead-letter topic, whole, so it can be
looked at and replayed (``omni dlq replay``; a replayed send of a failed message does nothing)."""

from bus import deadletter as dlq
from bus.consumer import Received
from dispatcher.deps import Deps


async def dead_letter(deps: Deps, received: Received, error: str, attempts: int) -> None:
    await deps.publisher.publish_many(
        [
            dlq.dead_letter(
                source_topic=received.topic,
                group=deps.group_id,
                key=received.key,
                value=received.value,
                headers=received.headers,
                error=error,
                attempts=attempts,
            )
        ]
    )
