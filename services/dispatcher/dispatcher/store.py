"""SQL of the dispatcher: messages being sent, the integrations they go through, and the
tenants the stuck-message sweep visits.

One function per query, the connection passed in; every tenant query runs in the caller's
``tenant_tx``. Status only moves forward here as everywhere: ``status_rank`` comparisons in
the UPDATE, because a status webhook may have moved the row further while the send was out.
"""

from typing import Any, Protocol
from uuid import UUID

import asyncpg

from db.tenant import Connection


class FailQuery(Protocol):
    """``mark_failed`` or one of its guarded variants, as ``outcome.record_failed`` runs it."""

    async def __call__(
        self, conn: Connection, *, message_id: UUID, error_code: str, error_reason: str
    ) -> asyncpg.Record | None: ...


# The integration's columns, prefixed ``i__``: messages has an integration_id of its own.
_LOAD_SEND = """
SELECT m.*, i.id AS i__id, i.provider AS i__provider, i.credentials AS i__credentials,
       i.api_base_url AS i__api_base_url, i.rate_limit_per_s AS i__rate_limit_per_s,
       i.status AS i__status, i.status_reason AS i__status_reason
  FROM messages m LEFT JOIN integrations i ON i.id = m.integration_id
 WHERE m.id = $1
"""


async def load_send(
    conn: Connection, *, message_id: UUID
) -> tuple[asyncpg.Record | None, dict[str, Any] | None]:
    """The message and the integration it goes through (None when deleted), in one query."""
    row = await conn.fetchrow(_LOAD_SEND, message_id)
    if row is None or row["i__id"] is None:
        return row, None
    return row, {k[3:]: v for k, v in row.items() if k.startswith("i__")}


async def claim_state(conn: Connection, *, message_id: UUID) -> asyncpg.Record | None:
    """What decides a send (decide.py), with the claim's age by the database's clock, the one
    that stamped it (process clocks may disagree)."""
    return await conn.fetchrow(
        "SELECT status, provider_message_id, send_started_at, direction, "
        "extract(epoch FROM clock_timestamp() - send_started_at)::float8 AS claim_age_s "
        "FROM messages WHERE id = $1",
        message_id,
    )


async def provider_message_id(conn: Connection, *, message_id: UUID) -> str | None:
    value: str | None = await conn.fetchval(
        "SELECT provider_message_id FROM messages WHERE id = $1", message_id
    )
    return value


async def load_integration(conn: Connection, *, integration_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, provider, credentials, api_base_url, rate_limit_per_s, status, status_reason "
        "FROM integrations WHERE id = $1",
        integration_id,
    )


async def claim_send(conn: Connection, *, message_id: UUID) -> bool:
    """Mark the provider call as started; false when another attempt holds or finished it.
    Committed on its own before the call, so a crash mid-call leaves the mark behind."""
    claimed = await conn.fetchval(
        "UPDATE messages SET send_started_at = clock_timestamp() "
        "WHERE id = $1 AND status = 'queued' AND provider_message_id IS NULL "
        "AND send_started_at IS NULL RETURNING id",
        message_id,
    )
    return claimed is not None


async def release_send(conn: Connection, *, message_id: UUID) -> None:
    """The call failed in a known way (nothing was sent): the next attempt may claim again."""
    await conn.execute(
        "UPDATE messages SET send_started_at = NULL WHERE id = $1 AND status = 'queued' "
        "AND provider_message_id IS NULL",
        message_id,
    )


async def mark_sent(
    conn: Connection, *, message_id: UUID, provider_message_id: str
) -> asyncpg.Record | None:
    """Sent with this provider id. The row may already carry the same id: ingest-worker
    attached it from the provider's echo or status webhook, which can beat the send's answer.
    An 'unknown' message moves on to 'sent' and drops its "may have been sent" reason."""
    return await conn.fetchrow(
        """
        UPDATE messages
           SET provider_message_id = $2,
               sent_at = COALESCE(sent_at, now()),
               status = CASE WHEN status_rank < status_rank('sent') THEN 'sent' ELSE status END,
               error_code = CASE WHEN status = 'failed' THEN error_code END,
               error_reason = CASE WHEN status = 'failed' THEN error_reason END
         WHERE id = $1 AND (provider_message_id IS NULL OR provider_message_id = $2)
        RETURNING *
        """,
        message_id,
        provider_message_id,
    )


async def mark_sent_without_id(conn: Connection, *, message_id: UUID) -> asyncpg.Record | None:
    """Sent, but the provider's id is already on another row (an echo of our own send that
    a webhook stored first): the send happened, so say so, and keep the id where it is."""
    return await conn.fetchrow(
        """
        UPDATE messages
           SET sent_at = COALESCE(sent_at, now()),
               status = CASE WHEN status_rank < status_rank('sent') THEN 'sent' ELSE status END
         WHERE id = $1 AND provider_message_id IS NULL
        RETURNING *
        """,
        message_id,
    )


async def mark_failed(
    conn: Connection, *, message_id: UUID, error_code: str, error_reason: str
) -> asyncpg.Record | None:
    """Fail a message that is still queued; None when it has moved on (nothing to change)."""
    return await conn.fetchrow(
        """
        UPDATE messages
           SET status = 'failed', error_code = $2, error_reason = $3, failed_at = now()
         WHERE id = $1 AND status = 'queued' AND provider_message_id IS NULL
        RETURNING *
        """,
        message_id,
        error_code,
        error_reason,
    )


async def mark_failed_unclaimed(
    conn: Connection, *, message_id: UUID, error_code: str, error_reason: str
) -> asyncpg.Record | None:
    """Fail a message nobody attempted: still queued and unclaimed. The sweep's fail of a
    message it found unattempted; a claim taken since (a send starting) leaves it alone."""
    return await conn.fetchrow(
        """
        UPDATE messages
           SET status = 'failed', error_code = $2, error_reason = $3, failed_at = now()
         WHERE id = $1 AND status = 'queued' AND provider_message_id IS NULL
           AND send_started_at IS NULL
        RETURNING *
        """,
        message_id,
        error_code,
        error_reason,
    )


async def mark_unknown(
    conn: Connection, *, message_id: UUID, error_code: str, error_reason: str
) -> asyncpg.Record | None:
    """ "May have been sent": a message still queued (no provider id known) becomes 'unknown'
    with the reason for the agent; the claim stays, so nothing sends it again. None when it
    has moved on (an echo or status webhook already said more)."""
    return await conn.fetchrow(
        """
        UPDATE messages
           SET status = 'unknown', error_code = $2, error_reason = $3
         WHERE id = $1 AND status = 'queued' AND provider_message_id IS NULL
        RETURNING *
        """,
        message_id,
        error_code,
        error_reason,
    )


async def mark_unknown_stale(
    conn: Connection, *, message_id: UUID, error_code: str, error_reason: str, older_than_s: float
) -> asyncpg.Record | None:
    """``mark_unknown`` for a message whose claim is older than ``older_than_s`` (the
    outcome-unknown bound): a claim released and taken again since (a call in flight now)
    leaves it alone."""
    return await conn.fetchrow(
        """
        UPDATE messages
           SET status = 'unknown', error_code = $2, error_reason = $3
         WHERE id = $1 AND status = 'queued' AND provider_message_id IS NULL
           AND send_started_at < clock_timestamp() - make_interval(secs => $4)
        RETURNING *
        """,
        message_id,
        error_code,
        error_reason,
        older_than_s,
    )


async def flag_integration(conn: Connection, *, integration_id: UUID, reason: str) -> None:
    await conn.execute(
        "UPDATE integrations SET status = 'needs_attention', status_reason = $2 "
        "WHERE id = $1 AND status = 'active'",
        integration_id,
        reason[:1000],
    )


# ---------------------------------------------------------------------------------------------
# The stuck-message sweep


async def tenants_with_queued(conn: Connection) -> list[UUID]:
    """Across tenants, through the SECURITY DEFINER function of migration 0003 (ids only)."""
    return [r[0] for r in await conn.fetch("SELECT * FROM tenants_with_queued_outbound()")]


async def stuck_messages(
    conn: Connection, *, older_than_s: float, limit: int
) -> list[asyncpg.Record]:
    """The tenant's outbound messages queued for longer than ``older_than_s``, oldest first,
    with what it takes to publish their request again."""
    return await conn.fetch(
        """
        SELECT m.id, m.conversation_id, m.integration_id, m.client_message_id, m.content,
               m.reply_to_provider_message_id, m.created_at, m.send_started_at,
               i.provider, c.external_id AS contact_external_id, now() AS now
          FROM messages m
          JOIN integrations i ON i.id = m.integration_id
          JOIN conversations v ON v.id = m.conversation_id
          JOIN contacts c ON c.id = v.contact_id
         WHERE m.direction = 'outbound' AND m.status = 'queued'
           AND m.created_at < now() - make_interval(secs => $1)
         ORDER BY m.created_at
         LIMIT $2
        """,
        older_than_s,
        limit,
    )
