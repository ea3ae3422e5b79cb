"""Our own outbound message, found again when the provider reports it before (or instead of)
the send's answer.

A send that ended ambiguously (status 'unknown') or whose answer is still on its way (the
dispatcher's claim, ``send_started_at``, stands) has no provider id yet. The provider tells us
more in two ways, and the message then takes the provider id (so replies, reactions and later
statuses find it) instead of a second row appearing:

- Meta echoes our ``client_message_id`` in status webhooks (``biz_opaque_callback_data``):
  an exact match, by (integration, client message id).
- Evolution and Z-API echo the business's own messages (``fromMe``) with their id: matched
  to the oldest such message of the same conversation with the same content (type, and the
  text or caption).

Same conventions as ``persist``: the caller's tenant transaction, one function per query.
An echo of a message whose id is already stored attaches to nothing (the id is unique per
integration) and is deduplicated by the insert as before.
"""

from datetime import datetime
from uuid import UUID

import asyncpg

from contracts import MessageReceived, MessageType
from db.tenant import Connection

# What the agent's message and the provider's echo of it may be typed as.
_SAME_KIND = {
    MessageType.AUDIO.value: ("audio", "voice"),
    MessageType.VOICE.value: ("audio", "voice"),
}

# A message still waiting for its provider id: the send ended 'unknown', or is in flight.
_AWAITING = """
    direction = 'outbound' AND provider_message_id IS NULL AND client_message_id IS NOT NULL
    AND (status = 'unknown' OR (status = 'queued' AND send_started_at IS NOT NULL))
"""

# Taking the provider's id moves an 'unknown' or in-flight message to 'sent' (the provider has
# it), dropping the "may have been sent" reason.
_TAKE_ID = """
    provider_message_id = $2,
    status = CASE WHEN m.status_rank < status_rank('sent') THEN 'sent' ELSE m.status END,
    sent_at = COALESCE(m.sent_at, $3),
    error_code = CASE WHEN m.status = 'unknown' THEN NULL ELSE m.error_code END,
    error_reason = CASE WHEN m.status = 'unknown' THEN NULL ELSE m.error_reason END
"""


async def attach_echo(
    conn: Connection, *, event: MessageReceived, conversation_id: UUID
) -> asyncpg.Record | None:
    """The outbound message ``event`` (a ``fromMe`` echo) is the echo of, now carrying its
    provider id; None when there is none (a message typed on the phone, or already known)."""
    message = event.message
    kinds = list(_SAME_KIND.get(message.type.value, (message.type.value,)))
    return await conn.fetchrow(
        f"""
        WITH candidate AS (
            SELECT id FROM messages
             WHERE conversation_id = $1 AND {_AWAITING}
               AND type = ANY($4::text[])
               AND CASE WHEN $5::text IS NOT NULL THEN text IS NOT DISTINCT FROM $5
                        WHEN $6::text IS NOT NULL THEN caption IS NOT DISTINCT FROM $6
                        ELSE true END
               AND NOT EXISTS (SELECT 1 FROM messages k
                               WHERE k.integration_id = $7 AND k.provider_message_id = $2)
             ORDER BY created_at, id
             LIMIT 1
             FOR UPDATE
        )
        UPDATE messages m SET {_TAKE_ID}
          FROM candidate
         WHERE m.id = candidate.id AND m.provider_message_id IS NULL
        RETURNING m.*
        """,  # noqa: S608 - the fragments are constants, values are bound
        conversation_id,
        message.provider_message_id,
        message.sent_at,
        kinds,
        message.text,
        message.caption,
        event.integration_id,
    )


async def attach_by_client_id(
    conn: Connection,
    *,
    integration_id: UUID,
    client_message_id: str,
    provider_message_id: str,
    reported_at: datetime,
) -> asyncpg.Record | None:
    """Our message with this client message id takes ``provider_message_id`` (Meta's status
    webhook named both); None when it has an id already or is not ours."""
    return await conn.fetchrow(
        f"""
        UPDATE messages m SET {_TAKE_ID}
         WHERE m.integration_id = $1 AND m.client_message_id = $4
           AND m.direction = 'outbound' AND m.provider_message_id IS NULL
           AND NOT EXISTS (SELECT 1 FROM messages k
                           WHERE k.integration_id = $1 AND k.provider_message_id = $2)
        RETURNING m.*
        """,  # noqa: S608 - the fragment is a constant, values are bound
        integration_id,
        provider_message_id,
        reported_at,
        client_message_id,
    )
