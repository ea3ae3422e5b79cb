"""/v1/conversations: the inbox, one conversation, its status and assignee, read receipts,
and starting a conversation with a template."""

from typing import Annotated
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Query

from contracts import topics
from contracts.outbound import MarkReadRequested
from contracts.realtime import ConversationUpdated, ConversationView
from db.snapshots import message_view
from realtime.api.models import (
    ConversationPage,
    ConversationPatch,
    NewConversation,
    NewMessage,
    StartedConversation,
)
from realtime.cursor import decode_cursor, encode_cursor
from realtime.deps import TenantTx, Tx
from realtime.errors import NotFound, Unprocessable, documented
from realtime.outbound import conversation_key, queue_outbound
from realtime.store import conversations, integrations
from realtime.views import conversation_view

router = APIRouter(
    prefix="/v1/conversations", tags=["conversations"], responses=documented(400, 401, 404, 409)
)


async def find(tx: Tx, conversation_id: UUID, *, lock: bool = False) -> asyncpg.Record:
    """The conversation, resolved inside the caller's tenant: another tenant's id is missing."""
    row = await conversations.get(tx.conn, conversation_id=conversation_id, lock=lock)
    if row is None:
        raise NotFound("no such conversation")
    return row


@router.get("")
async def list_conversations(
    tx: TenantTx,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
    status: Annotated[str | None, Query(pattern="^(open|closed)$")] = None,
    unread: bool | None = None,
) -> ConversationPage:
    after = decode_cursor(cursor) if cursor else None
    rows = await conversations.page(
        tx.conn, limit=limit + 1, after=after, status=status, unread=unread
    )
    items = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        next_cursor = encode_cursor(items[-1]["last_message_at"], items[-1]["id"])
    return ConversationPage(items=[conversation_view(r) for r in items], next_cursor=next_cursor)


@router.get("/{conversation_id}")
async def get_conversation(conversation_id: UUID, tx: TenantTx) -> ConversationView:
    return conversation_view(await find(tx, conversation_id))


@router.patch("/{conversation_id}")
async def patch_conversation(
    conversation_id: UUID, body: ConversationPatch, tx: TenantTx
) -> ConversationView:
    await find(tx, conversation_id, lock=True)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("status") is None:
        changes.pop("status", None)  # status cannot be null; assignee null unassigns
    assignee = changes.get("assignee")
    if assignee is not None and not await conversations.is_member(tx.conn, user_id=assignee):
        raise Unprocessable("the assignee is not a member of this tenant", code="unknown_assignee")
    row = await conversations.update(tx.conn, conversation_id=conversation_id, changes=changes)
    assert row is not None
    view = conversation_view(row)
    await tx.record([ConversationUpdated(conversation=view)])
    return view


@router.post("/{conversation_id}/read")
async def mark_read(conversation_id: UUID, tx: TenantTx) -> ConversationView:
    """Zero the unread count and ask the dispatcher to mark the customer's last message read."""
    before = await find(tx, conversation_id, lock=True)
    row = await conversations.mark_read(tx.conn, conversation_id=conversation_id)
    assert row is not None
    view = conversation_view(row)
    await tx.record([ConversationUpdated(conversation=view)])
    provider_message_id = before["last_inbound_provider_message_id"]
    if provider_message_id is not None:
        tx.publish_after_commit(
            topics.OUTBOUND,
            MarkReadRequested(
                tenant_id=tx.tenant_id,
                conversation_id=conversation_id,
                integration_id=row["integration_id"],
                provider=row["provider"],
                provider_message_id=provider_message_id,
                chat_id=row["chat_id"],
            ),
            conversation_key(tx.tenant_id, row),
        )
    return view


@router.post("", status_code=202)
async def start_conversation(body: NewConversation, tx: TenantTx) -> StartedConversation:
    """Write first to a phone on an integration: only a template may open the conversation."""
    if await integrations.get(tx.conn, integration_id=body.integration_id) is None:
        raise NotFound("no such integration")
    conversation_id = await conversations.start(
        tx.conn,
        tenant_id=tx.tenant_id,
        integration_id=body.integration_id,
        phone=body.phone.removeprefix("+"),
    )
    conversation = await find(tx, conversation_id, lock=True)
    message = await queue_outbound(
        tx,
        conversation,
        NewMessage(client_message_id=body.client_message_id, content=body.template),
    )
    current = await find(tx, conversation_id)
    return StartedConversation(
        conversation=conversation_view(current), message=message_view(message)
    )
