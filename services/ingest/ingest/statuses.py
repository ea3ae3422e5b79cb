"""Statuses of our outbound messages applied, forward only: parked when the message's provider
id is not known yet, and applied once it is (``downstream.unpark_keys``); a Meta status naming
our client message id gives a message that never got its id that id first.
"""

from uuid import UUID

import asyncpg

from contracts import MessageUpdated, StatusReported
from db.snapshots import message_view
from db.tenant import Connection
from ingest import echoes, parked, persist
from ingest.downstream import Downstream, again, unpark_keys
from ingest.views import derived_id
from telemetry.tracing import child, link


async def unpark(conn: Connection, statuses: list[StatusReported], out: Downstream) -> None:
    """Statuses parked for the messages this batch reports on, applied first. They were
    reported earlier (a provider may send sent, delivered and read before the dispatcher has
    stored the message's id); applied after a later status they would be dropped as stale and
    an agent would see sent → read, never delivered."""
    keys = {(s.integration_id, pid) for s in statuses for pid in s.provider_message_ids}
    await unpark_keys(conn, sorted(keys), out)


async def apply(conn: Connection, tenant_id: UUID, event: StatusReported, out: Downstream) -> None:
    for provider_message_id in event.provider_message_ids:
        key = (event.integration_id, provider_message_id)
        if key in out.parked:
            # Parked earlier in this batch, and the dispatcher has stored the id since.
            out.parked.discard(key)
            await unpark_keys(conn, [key], out)
        row = await _apply(conn, event, provider_message_id)
        event_id = derived_id(event.event_id, f"status:{provider_message_id}")
        if row is not None:
            # The provider's webhook is a trace of its own: point it at the send it reports on.
            link(event.traceparent, row["send_traceparent"], {"omni.link": "send"})
            out.new.append(
                MessageUpdated(
                    event_id=event_id,
                    message=message_view(row),
                    traceparent=child(event.traceparent),
                )
            )
            continue
        existing = await persist.message_by_provider_id(
            conn, integration_id=event.integration_id, provider_message_id=provider_message_id
        )
        if existing is not None:
            await again(conn, event, existing, [event_id], out)
            continue
        if await _attach_by_client_id(conn, event, provider_message_id, event_id, out):
            continue
        out.parked.add(key)
        await parked.park_status(
            conn,
            tenant_id=tenant_id,
            integration_id=event.integration_id,
            provider_message_id=provider_message_id,
            status=event.status,
            reported_at=event.reported_at,
            error_code=event.error.code if event.error else None,
            error_reason=event.error.title if event.error else None,
        )


async def _attach_by_client_id(
    conn: Connection,
    event: StatusReported,
    provider_message_id: str,
    event_id: UUID,
    out: Downstream,
) -> bool:
    """A status naming our client message id (Meta's ``biz_opaque_callback_data``) for a
    message whose provider id we never got (the send ended 'unknown', or its answer is still
    on the way): the message takes the id, then the status. False when nothing matched."""
    if event.client_message_id is None or len(event.provider_message_ids) != 1:
        return False
    attached = await echoes.attach_by_client_id(
        conn,
        integration_id=event.integration_id,
        client_message_id=event.client_message_id,
        provider_message_id=provider_message_id,
        reported_at=event.reported_at,
    )
    if attached is None:
        return False
    row = await _apply(conn, event, provider_message_id)
    out.new.append(
        MessageUpdated(
            event_id=event_id,
            message=message_view(row if row is not None else attached),
            traceparent=child(event.traceparent),
        )
    )
    return True


async def _apply(
    conn: Connection, event: StatusReported, provider_message_id: str
) -> asyncpg.Record | None:
    """``event``'s status on the message of ``provider_message_id``: its row when it moved."""
    return await persist.apply_status(
        conn,
        integration_id=event.integration_id,
        provider_message_id=provider_message_id,
        status=event.status,
        reported_at=event.reported_at,
        error_code=event.error.code if event.error else None,
        error_reason=event.error.title if event.error else None,
    )
