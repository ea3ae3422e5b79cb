"""Parked statuses: a status that arrived before the dispatcher recorded its message's provider
id waits in ``parked_statuses``; this loop applies it once the message exists."""

import asyncio
import contextlib
from uuid import UUID

import asyncpg
import structlog

from bus.publisher import Outgoing, PublisherBase
from contracts import MessageStatus, MessageUpdated, topics
from db import realtime_log
from db.snapshots import message_view
from db.tenant import Connection, tenant_tx
from ingest import parked, persist

log = structlog.get_logger(__name__)

CLAIM_LIMIT = 500


async def reconcile_tenant(
    pool: asyncpg.Pool, tenant_id: UUID, *, max_age_s: float
) -> list[Outgoing]:
    """Apply the tenant's parked statuses whose message now exists; drop expired ones."""
    async with tenant_tx(pool, tenant_id) as conn:
        claimed = await parked.claim_matched_parked(conn, limit=CLAIM_LIMIT)
        updates = await apply_parked(conn, claimed)
        expired = await parked.expire_parked(conn, max_age_s=max_age_s)
        if expired:
            log.warning("parked statuses expired unmatched", count=expired)
        recorded = await realtime_log.record(conn, tenant_id, updates)
    stamped = await realtime_log.numbered(pool, recorded)
    return [Outgoing(topics.REALTIME, str(tenant_id), e) for e in stamped]


async def apply_parked(conn: Connection, claimed: list[asyncpg.Record]) -> list[MessageUpdated]:
    """Apply claimed parked statuses in the order given and delete them; an update for each
    that moved its message forward."""
    updates: list[MessageUpdated] = []
    for p in claimed:
        row = await persist.apply_status(
            conn,
            integration_id=p["integration_id"],
            provider_message_id=p["provider_message_id"],
            status=MessageStatus(p["status"]),
            reported_at=p["reported_at"],
            error_code=p["error_code"],
            error_reason=p["error_reason"],
        )
        if row is not None:
            updates.append(MessageUpdated(message=message_view(row)))
    await parked.delete_parked(conn, ids=[p["id"] for p in claimed])
    return updates


async def reconcile_once(pool: asyncpg.Pool, publisher: PublisherBase, *, max_age_s: float) -> int:
    async with pool.acquire() as conn:
        tenants = await parked.tenants_with_parked_statuses(conn)
    published = 0
    for tenant_id in tenants:
        outgoing = await reconcile_tenant(pool, tenant_id, max_age_s=max_age_s)
        # The realtime log already holds these; if this publish is lost the gateway's replay
        # from the log still shows them.
        await publisher.publish_many(outgoing)
        published += len(outgoing)
    return published


async def run_reconciler(
    pool: asyncpg.Pool,
    publisher: PublisherBase,
    stop: asyncio.Event,
    *,
    interval_s: float,
    max_age_s: float,
) -> None:
    while not stop.is_set():
        try:
            await reconcile_once(pool, publisher, max_age_s=max_age_s)
        except Exception as exc:  # keep reconciling; the next round retries
            log.error("reconcile round failed", error=repr(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_s)
