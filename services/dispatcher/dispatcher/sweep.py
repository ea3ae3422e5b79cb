"""The periodic sweep: no outbound message stays 'queued' forever.

Visits the tenants with queued outbound messages (migration 0003), and for each message queued
longer than the bounds (requeue.py decides): publishes its send request again, or fails it.
Several dispatcher processes may sweep at once; that is harmless (a republished request
is claimed on the row before any call, and failing is a conditional UPDATE).

A republished request carries the gateway's key (``requeue.outbound_key``: tenant, integration,
chat), so it lands on its conversation's partition and lane, behind the sends queued before
it, never beside them. Failing checks the claim: a message found unattempted is failed only
while still unclaimed, one found with an old claim only while that claim is still old, so a
send that started meanwhile is never failed under its call.
"""

import asyncio
import contextlib
import functools
from uuid import UUID

import asyncpg
import structlog

from bus.publisher import Outgoing
from contracts import topics
from db.tenant import tenant_tx
from dispatcher import metrics, outcome, store
from dispatcher.deps import Deps
from dispatcher.failures import outcome_unknown, stuck_in_queue
from dispatcher.requeue import (
    NotRebuildable,
    SweepAction,
    outbound_key,
    reaction_target,
    rebuild_request,
    sweep_action,
)
from dispatcher.settings import DispatcherSettings

log = structlog.get_logger(__name__)


async def sweep_tenant(deps: Deps, settings: DispatcherSettings, tenant_id: UUID) -> int:
    """One pass over one tenant; returns how many messages it acted on."""
    async with tenant_tx(deps.pool, tenant_id) as conn:
        rows = await store.stuck_messages(
            conn,
            older_than_s=min(settings.requeue_after_s, settings.unknown_after_s),
            limit=settings.sweep_batch,
        )
        if not rows:
            return 0
    republish: list[Outgoing] = []
    acted = 0
    for row in rows:
        action = sweep_action(
            created_at=row["created_at"],
            send_started_at=row["send_started_at"],
            now=row["now"],
            requeue_after_s=settings.requeue_after_s,
            fail_after_s=settings.fail_after_s,
            unknown_after_s=settings.unknown_after_s,
        )
        if action is SweepAction.WAIT:
            continue
        acted += 1
        metrics.REQUEUED.labels(action.value).inc()
        failed = None
        # A message found unattempted is failed only if still unclaimed: a send may have
        # started since the read above, and its call must not be failed under it.
        fail_query: store.FailQuery = store.mark_failed_unclaimed
        if action is SweepAction.REPUBLISH:
            try:
                request = rebuild_request(
                    tenant_id=tenant_id,
                    row=row,
                    provider=row["provider"],
                    to=row["contact_external_id"],
                    target_provider_message_id=await _target_id(deps, tenant_id, row),
                )
            except NotRebuildable as exc:
                failed = stuck_in_queue(settings.requeue_after_s)
                log.warning("queued message cannot be republished", error=str(exc))
            else:
                key = outbound_key(tenant_id, request.integration_id, request.to)
                republish.append(Outgoing(topics.OUTBOUND, key, request))
        elif action is SweepAction.FAIL_UNKNOWN:
            failed = outcome_unknown()
            fail_query = functools.partial(
                store.mark_unknown_stale, older_than_s=settings.unknown_after_s
            )
        else:
            failed = stuck_in_queue(settings.fail_after_s)
        if failed is not None:
            await outcome.record_failed(
                deps,
                tenant_id=tenant_id,
                message_id=row["id"],
                integration_id=row["integration_id"],
                failed=failed,
                traceparent=None,
                fail_query=fail_query,
            )
    if republish:
        await deps.publisher.publish_many(republish)
        log.info("republished queued messages", tenant_id=str(tenant_id), count=len(republish))
    return acted


async def _target_id(deps: Deps, tenant_id: UUID, row: asyncpg.Record) -> str | None:
    target = reaction_target(row["content"])
    if target is None:
        return None
    async with tenant_tx(deps.pool, tenant_id) as conn:
        return await store.provider_message_id(conn, message_id=target)


async def sweep_once(deps: Deps, settings: DispatcherSettings) -> int:
    async with deps.pool.acquire() as conn:
        tenants = await store.tenants_with_queued(conn)
    total = 0
    for tenant_id in tenants:
        total += await sweep_tenant(deps, settings, tenant_id)
    return total


async def run_sweeps(deps: Deps, settings: DispatcherSettings, stop: asyncio.Event) -> None:
    """Sweep every ``sweep_interval_s`` until ``stop``; a failed pass is logged and retried at
    the next interval (the sweep is a safety net, never a reason to stop sending)."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=settings.sweep_interval_s)
        if stop.is_set():
            return
        try:
            await sweep_once(deps, settings)
        except Exception:
            log.exception("sweep pass failed")
