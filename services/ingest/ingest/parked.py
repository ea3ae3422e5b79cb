"""SQL for parked statuses: statuses whose message is not known yet (the provider's webhook
beat the dispatcher's record of the send), kept until the reconcile loop, or the next status
for the same message, applies them.
Same conventions as ``persist``: the caller's tenant transaction, one function per query."""

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg

from contracts import MessageStatus
from db.tenant import Connection


async def park_status(
    conn: Connection,
    *,
    tenant_id: UUID,
    integration_id: UUID,
    provider_message_id: str,
    status: MessageStatus,
    reported_at: datetime,
    error_code: str | None,
    error_reason: str | None,
) -> None:
    """Keep a status whose message is not known yet (the webhook beat the send's response)."""
    await conn.execute(
        """
        INSERT INTO parked_statuses (tenant_id, integration_id, provider_message_id, status,
                                     error_code, error_reason, reported_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (integration_id, provider_message_id, status) DO NOTHING
        """,
        tenant_id,
        integration_id,
        provider_message_id,
        status.value,
        error_code,
        error_reason,
        reported_at,
    )


async def claim_matched_parked(conn: Connection, *, limit: int) -> list[asyncpg.Record]:
    """Parked statuses whose message now exists, locked for this transaction."""
    return list(
        await conn.fetch(
            """
            SELECT p.* FROM parked_statuses p
            WHERE EXISTS (SELECT 1 FROM messages m WHERE m.integration_id = p.integration_id
                          AND m.provider_message_id = p.provider_message_id)
            ORDER BY p.reported_at, p.id
            LIMIT $1
            FOR UPDATE OF p SKIP LOCKED
            """,
            limit,
        )
    )


async def claim_parked_for(
    conn: Connection, keys: Sequence[tuple[UUID, str]]
) -> list[asyncpg.Record]:
    """Parked statuses of these (integration, provider message id) pairs whose message now
    exists, oldest first, locked for this transaction."""
    if not keys:
        return []
    return list(
        await conn.fetch(
            """
            SELECT p.* FROM parked_statuses p
            WHERE (p.integration_id, p.provider_message_id) IN (
                      SELECT * FROM unnest($1::uuid[], $2::text[]))
              AND EXISTS (SELECT 1 FROM messages m WHERE m.integration_id = p.integration_id
                          AND m.provider_message_id = p.provider_message_id)
            ORDER BY p.reported_at, p.id
            FOR UPDATE OF p SKIP LOCKED
            """,
            [k[0] for k in keys],
            [k[1] for k in keys],
        )
    )


async def delete_parked(conn: Connection, *, ids: Sequence[int]) -> None:
    await conn.execute("DELETE FROM parked_statuses WHERE id = ANY($1::bigint[])", list(ids))


async def expire_parked(conn: Connection, *, max_age_s: float) -> int:
    deleted: str = await conn.execute(
        "DELETE FROM parked_statuses WHERE created_at < now() - make_interval(secs => $1)",
        max_age_s,
    )
    return int(deleted.split()[-1])


async def tenants_with_parked_statuses(conn: Connection) -> list[UUID]:
    """Across tenants, through the SECURITY DEFINER function of migration 0002 (ids only)."""
    return [r[0] for r in await conn.fetch("SELECT * FROM tenants_with_parked_statuses()")]
