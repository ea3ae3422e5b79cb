"""Writing a send's outcome: the message row, the integration flag, the realtime log, and the
realtime publication after commit. The only place that turns an outcome into effects.

Each write is its own transaction, retried over a database blip (``transient``): it is
idempotent, and an outcome the provider gave must not be lost to a dropped connection.
A ``Failed`` whose code is ``outcome_unknown`` ("may have been sent") leaves the message in
the status 'unknown', not 'failed'."""

from uuid import UUID

import asyncpg
import structlog

from contracts import MessageUpdated, topics
from db import realtime_log
from db.snapshots import message_view
from db.tenant import Connection, tenant_tx
from dispatcher import store
from dispatcher.deps import Deps
from dispatcher.failures import Failed
from dispatcher.transient import retrying
from telemetry.tracing import child

log = structlog.get_logger(__name__)


async def _updated(
    conn: Connection, tenant_id: UUID, row: asyncpg.Record | None, traceparent: str | None
) -> list[MessageUpdated]:
    if row is None:
        return []
    event = MessageUpdated(message=message_view(row), traceparent=child(traceparent))
    return await realtime_log.record(conn, tenant_id, [event])


async def _publish(deps: Deps, tenant_id: UUID, events: list[MessageUpdated]) -> None:
    for event in await realtime_log.numbered(deps.pool, events):
        await deps.publisher.publish(topics.REALTIME, event, key=str(tenant_id))


async def record_sent(
    deps: Deps,
    *,
    tenant_id: UUID,
    message_id: UUID,
    provider_message_id: str,
    traceparent: str | None,
) -> None:
    async def write(with_id: bool) -> list[MessageUpdated]:
        async with tenant_tx(deps.pool, tenant_id) as conn:
            if with_id:
                row = await store.mark_sent(
                    conn, message_id=message_id, provider_message_id=provider_message_id
                )
            else:
                row = await store.mark_sent_without_id(conn, message_id=message_id)
            return await _updated(conn, tenant_id, row, traceparent)

    async def write_sent() -> list[MessageUpdated]:
        # The id's conflict is rare (an echo of this send stored first): it aborts the
        # transaction, and a second one records the send without the id. A savepoint would
        # cost every send two more round trips for that.
        try:
            return await write(with_id=True)
        except asyncpg.UniqueViolationError:
            log.warning(
                "provider id already stored on another message",
                provider_message_id=provider_message_id,
            )
            return await write(with_id=False)

    events = await retrying("sent", write_sent, within_s=deps.record_retry_s)
    await _publish(deps, tenant_id, events)


async def record_failed(
    deps: Deps,
    *,
    tenant_id: UUID,
    message_id: UUID,
    integration_id: UUID,
    failed: Failed,
    traceparent: str | None,
    fail_query: store.FailQuery | None = None,
) -> None:
    """``fail_query`` decides which rows may change and how; by default a queued message is
    failed, or marked 'unknown' when the failure says the send may have happened. The sweep
    and a decided "outcome unknown" pass guarded variants (``store.mark_failed_unclaimed``,
    ``store.mark_unknown_stale``)."""
    mark = fail_query or (store.mark_unknown if failed.unknown else store.mark_failed)

    async def write() -> list[MessageUpdated]:
        async with tenant_tx(deps.pool, tenant_id) as conn:
            row = await mark(
                conn,
                message_id=message_id,
                error_code=failed.error_code,
                error_reason=failed.error_reason,
            )
            if failed.integration_reason is not None:
                await store.flag_integration(
                    conn, integration_id=integration_id, reason=failed.integration_reason
                )
            return await _updated(conn, tenant_id, row, traceparent)

    events = await retrying(failed.error_code, write, within_s=deps.record_retry_s)
    if failed.integration_reason is not None:
        log.warning("integration flagged as needing attention", integration_id=str(integration_id))
    await _publish(deps, tenant_id, events)


async def flag_integration(
    deps: Deps, *, tenant_id: UUID, integration_id: UUID, reason: str
) -> None:
    async with tenant_tx(deps.pool, tenant_id) as conn:
        await store.flag_integration(conn, integration_id=integration_id, reason=reason)
    log.warning("integration flagged as needing attention", integration_id=str(integration_id))
