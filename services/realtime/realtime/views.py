"""Rows → the contract snapshots (MessageView, ConversationView) the REST API and the realtime
events share, so a client renders both with the same code."""

import asyncpg

from contracts.realtime import ConversationView


def conversation_view(row: asyncpg.Record) -> ConversationView:
    return ConversationView(
        id=row["id"],
        integration_id=row["integration_id"],
        provider=row["provider"],
        contact_id=row["contact_id"],
        contact_name=row["contact_name"],
        contact_phone=row["contact_phone"],
        status=row["status"],
        assignee=row["assignee"],
        last_message_preview=row["last_message_preview"],
        last_message_at=row["last_message_at"],
        last_inbound_at=row["last_inbound_at"],
        unread_count=row["unread_count"],
        updated_at=row["updated_at"],
    )
