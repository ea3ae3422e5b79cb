"""SQL for edits and deletions for everyone: an earlier message changed by its author.

An edit replaces the text, or the caption of a message with media, and appends what it
replaced to ``edits``; edits apply in the order they were made (``edited_at``), so a late or
redelivered one changes nothing. A deletion sets ``deleted_at`` once; the content stays in the
row and the views hide it. Only the author's side may change a message (a customer's edit
touches an inbound message, the business phone's an outbound one), and a deleted message is
not edited. Each function returns the updated row, or None when nothing changed.
"""

from datetime import datetime
from uuid import UUID

import asyncpg

from db.tenant import Connection


async def apply_edit(
    conn: Connection,
    *,
    integration_id: UUID,
    target_provider_message_id: str,
    direction: str,
    text: str,
    edited_at: datetime,
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """
        UPDATE messages SET
            edits = edits || jsonb_build_array(jsonb_build_object(
                'text', text, 'caption', caption, 'replaced_at', $5::timestamptz)),
            text = CASE WHEN media_state IS NULL THEN $4 ELSE text END,
            caption = CASE WHEN media_state IS NULL THEN caption ELSE $4 END,
            edited_at = $5
        WHERE integration_id = $1 AND provider_message_id = $2 AND direction = $3
          AND deleted_at IS NULL AND (edited_at IS NULL OR edited_at < $5)
        RETURNING *
        """,
        integration_id,
        target_provider_message_id,
        direction,
        text,
        edited_at,
    )


async def apply_revoke(
    conn: Connection,
    *,
    integration_id: UUID,
    target_provider_message_id: str,
    direction: str,
    deleted_at: datetime,
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """
        UPDATE messages SET deleted_at = $4
        WHERE integration_id = $1 AND provider_message_id = $2 AND direction = $3
          AND deleted_at IS NULL
        RETURNING *
        """,
        integration_id,
        target_provider_message_id,
        direction,
        deleted_at,
    )


DELETED_PREVIEW = "🚫 This message was deleted"


async def refresh_preview(
    conn: Connection, *, message: asyncpg.Record, preview: str
) -> asyncpg.Record | None:
    """The inbox line of the message's conversation, when that message is its latest (so a
    deleted message's text leaves the inbox list too): the conversation with its contact's
    name and phone, or None when the line did not change."""
    return await conn.fetchrow(
        """
        WITH c AS (
            UPDATE conversations SET last_message_preview = $3
            WHERE id = $1 AND last_message_at = $2 AND last_message_preview IS DISTINCT FROM $3
            RETURNING *
        )
        SELECT c.*, k.display_name, k.phone FROM c JOIN contacts k ON k.id = c.contact_id
        """,
        message["conversation_id"],
        message["provider_timestamp"],
        preview,
    )
