"""One consumed batch → one transaction per tenant → what to publish after the commits.

An event that can never be applied (an integration or tenant that does not exist, a value the
schema refuses) is isolated here and dead-lettered at once, instead of holding the partition
through the consumer's retries; transient failures (connection, deadlock) propagate, and the
BatchConsumer retries the batch.
"""

import asyncio
from collections.abc import Sequence
from uuid import UUID

import asyncpg
import structlog

from bus import deadletter as dlq
from bus.consumer import Received
from bus.publisher import Outgoing
from db import realtime_log
from db.tenant import tenant_tx
from ingest.apply import apply_tenant

log = structlog.get_logger(__name__)

# Errors that the same input will raise again however often it is retried.
PERMANENT: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.IntegrityConstraintViolationError,
    asyncpg.exceptions.DataError,
    ValueError,  # includes pydantic.ValidationError
)


def by_tenant(batch: Sequence[Received]) -> tuple[dict[UUID, list[Received]], list[Received]]:
    """Group a batch by tenant, keeping each tenant's records in consumed order; records
    without a tenant are returned apart."""
    groups: dict[UUID, list[Received]] = {}
    orphans: list[Received] = []
    for record in batch:
        tenant_id = record.event.tenant_id
        if tenant_id is None:
            orphans.append(record)
        else:
            groups.setdefault(tenant_id, []).append(record)
    return groups, orphans


def dead_letter(record: Received, group: str, error: str) -> Outgoing:
    log.error(
        "dead-lettering an inbound event that cannot be applied",
        offset=record.offset,
        topic=record.topic,
        error=error,
    )
    return dlq.dead_letter(
        source_topic=record.topic,
        group=group,
        key=record.key,
        value=record.value,
        headers=record.headers,
        error=error,
        attempts=1,
    )


async def _apply(
    pool: asyncpg.Pool, tenant_id: UUID, records: Sequence[Received]
) -> list[Outgoing]:
    async with tenant_tx(pool, tenant_id) as conn:
        downstream = await apply_tenant(conn, tenant_id, [r.event for r in records])
    downstream.new = await realtime_log.numbered(pool, downstream.new)
    return downstream.outgoing(tenant_id)


async def apply_batch(
    pool: asyncpg.Pool, batch: Sequence[Received], *, concurrency: int, group: str
) -> list[Outgoing]:
    """Apply ``batch`` (several tenants at once, bounded); returns the downstream events and
    dead letters to publish once every transaction has committed."""
    limit = asyncio.Semaphore(concurrency)
    groups, orphans = by_tenant(batch)
    outgoing = [dead_letter(r, group, "inbound event without tenant_id") for r in orphans]

    async def one(tenant_id: UUID, records: list[Received]) -> None:
        async with limit:
            try:
                outgoing.extend(await _apply(pool, tenant_id, records))
                return
            except PERMANENT as exc:
                if len(records) == 1:
                    outgoing.append(dead_letter(records[0], group, repr(exc)))
                    return
            for record in records:  # find the one that cannot be applied; apply the others
                try:
                    outgoing.extend(await _apply(pool, tenant_id, [record]))
                except PERMANENT as exc:
                    outgoing.append(dead_letter(record, group, repr(exc)))

    async with asyncio.TaskGroup() as tasks:
        for tenant_id, records in groups.items():
            tasks.create_task(one(tenant_id, records))
    return outgoing
