"""Fetches that failed transiently are tried again later, for as long as the provider keeps
the media, instead of failing after a few seconds.

A provider outage of minutes or hours is normal; its media stays downloadable for days (Meta
keeps a media id for 30 days and each try asks it for a fresh download URL, since a URL lives
5 minutes; Evolution and Z-API serve it while the phone or their storage has it). So when the
in-process tries are spent on a transient failure (5xx, timeouts, throttling), the attachment
stays ``pending`` with the reason, and its next try is scheduled: ``MEDIA_RETRY_LATER_S``
after the first, four times longer each time, at most every two hours, until the message is
``MEDIA_RETRY_FOR_S`` old (then ``failed``). The media-worker's retrier publishes the due
ones to ``omni.media`` again. An admin (``POST /v1/media/{id}/refetch``) or an operator
(``omni media refetch``) can ask for failed attachments to be fetched again.
"""

import asyncio
import contextlib
from uuid import UUID, uuid4

import asyncpg
import structlog

from bus.publisher import Outgoing, Publisher
from contracts import MediaFetchRequested, MediaRef, MessageType, Provider, topics
from db.tenant import Connection, tenant_tx

log = structlog.get_logger(__name__)

LONGEST_WAIT_S = 2 * 3600.0


def delay_for(attempts: int, first_s: float) -> float:
    """Pure: the wait before the try after ``attempts`` scheduled ones (0, 1, 2...)."""
    return min(first_s * 4.0 ** min(attempts, 10), LONGEST_WAIT_S)


async def schedule(
    conn: Connection, *, message_id: UUID, reason: str, first_s: float, for_s: float
) -> bool:
    """Schedule the next try of a pending attachment; False when the message is older than
    ``for_s`` (the caller fails it: the provider no longer keeps the media)."""
    attempts = await conn.fetchval(
        "SELECT media_attempts FROM messages WHERE id = $1 AND media_state = 'pending' "
        "AND created_at > now() - make_interval(secs => $2)",
        message_id,
        for_s,
    )
    if attempts is None:
        return False
    await conn.execute(
        "UPDATE messages SET media_retry_at = now() + make_interval(secs => $2), "
        "media_attempts = media_attempts + 1, media_error = $3 WHERE id = $1",
        message_id,
        delay_for(int(attempts), first_s),
        f"not stored yet, will try again: {reason}"[:500],
    )
    return True


async def refetch(conn: Connection, *, message_id: UUID | None = None) -> list[UUID]:
    """Failed attachments (one, or all of the tenant) made pending and due now; their ids."""
    rows = await conn.fetch(
        "UPDATE messages SET media_state = 'pending', media_error = NULL, media_attempts = 0, "
        "media_retry_at = now() WHERE media_state = 'failed' AND media_provider_ref IS NOT NULL "
        "AND ($1::uuid IS NULL OR id = $1) RETURNING id",
        message_id,
    )
    return [r["id"] for r in rows]


async def _claim(conn: Connection, *, message_id: UUID) -> MediaFetchRequested | None:
    """Take a due try (one retrier wins when several processes run) as its fetch request."""
    row = await conn.fetchrow(
        """
        UPDATE messages m SET media_retry_at = NULL
          FROM integrations i
         WHERE m.id = $1 AND m.media_state = 'pending' AND m.media_retry_at <= now()
           AND i.id = m.integration_id
        RETURNING m.id, m.tenant_id, m.conversation_id, m.integration_id, m.type, i.provider,
                  m.media_provider_ref, m.media_mime, m.media_sha256, m.media_size,
                  m.media_filename
        """,
        message_id,
    )
    if row is None or row["media_provider_ref"] is None:
        return None
    return MediaFetchRequested(
        event_id=uuid4(),
        tenant_id=row["tenant_id"],
        message_id=row["id"],
        conversation_id=row["conversation_id"],
        integration_id=row["integration_id"],
        provider=Provider(row["provider"]),
        message_type=MessageType(row["type"]),
        media=MediaRef(
            provider_ref=row["media_provider_ref"],
            mime=row["media_mime"],
            sha256=row["media_sha256"],
            size=row["media_size"],
            filename=row["media_filename"],
        ),
    )


async def publish_due(pool: asyncpg.Pool, publisher: Publisher, *, limit: int = 200) -> int:
    """One round of the retrier: the due tries, fetch requests again; how many."""
    due = await pool.fetch("SELECT tenant_id, message_id FROM media_retries_due($1)", limit)
    requests = []
    for row in due:
        async with tenant_tx(pool, row["tenant_id"]) as conn:
            request = await _claim(conn, message_id=row["message_id"])
        if request is not None:
            requests.append(Outgoing(topics.MEDIA, str(request.message_id), request))
    if requests:
        await publisher.publish_many(requests)
        log.info("media fetches tried again", count=len(requests))
    return len(requests)


async def run_retrier(
    pool: asyncpg.Pool, publisher: Publisher, stop: asyncio.Event, *, interval_s: float
) -> None:
    while not stop.is_set():
        try:
            await publish_due(pool, publisher)
        except Exception as exc:  # the next round tries again; the worker goes on
            log.warning("media retrier round failed", error=repr(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_s)
