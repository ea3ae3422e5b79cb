"""/v1/conversations/{id}/messages: history backwards in time, and sending."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from contracts.realtime import MessageView
from db.snapshots import message_view
from realtime.api.conversations import find
from realtime.api.models import MessagePage, NewMessage
from realtime.cursor import decode_cursor, encode_cursor
from realtime.deps import TenantTx
from realtime.errors import documented
from realtime.outbound import queue_outbound
from realtime.store import messages

router = APIRouter(
    prefix="/v1/conversations/{conversation_id}/messages",
    tags=["messages"],
    responses=documented(400, 401, 404, 409),
)


@router.get("")
async def list_messages(
    conversation_id: UUID,
    tx: TenantTx,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: str | None = None,
) -> MessagePage:
    await find(tx, conversation_id)
    rows = await messages.page_before(
        tx.conn,
        conversation_id=conversation_id,
        limit=limit + 1,
        before=decode_cursor(before) if before else None,
    )
    items = rows[:limit]
    next_before = None
    if len(rows) > limit:
        next_before = encode_cursor(items[-1]["created_at"], items[-1]["id"])
    return MessagePage(items=[message_view(r) for r in items], next_before=next_before)


@router.post("", status_code=202)
async def send_message(conversation_id: UUID, body: NewMessage, tx: TenantTx) -> MessageView:
    conversation = await find(tx, conversation_id, lock=True)
    return message_view(await queue_outbound(tx, conversation, body))
