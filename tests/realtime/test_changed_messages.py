"""The agents' history of a conversation shows edits and hides what its author deleted for
everyone (issue #19); the gateway maps rows with the same ``db.snapshots`` as ingest."""

from datetime import UTC, datetime

import asyncpg

from credentials import Vault
from db.tenant import tenant_tx
from tests.realtime.conftest import Gateway, token
from tests.realtime.world import make_world


async def test_history_shows_edits_and_no_content_of_deleted_messages(
    gateway: Gateway, app_pool: asyncpg.Pool, vault: Vault, make_tenant
) -> None:  # type: ignore[no-untyped-def]
    w = await make_world(app_pool, vault, await make_tenant())
    at = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    async with tenant_tx(app_pool, w.tenant_id) as conn:
        for pmid, text, edited, deleted in (
            ("wamid.edited", "see you at 11", at, None),
            ("wamid.deleted", "my card number is 1234", None, at),
        ):
            await conn.execute(
                "INSERT INTO messages (tenant_id, conversation_id, integration_id, direction, "
                "type, status, provider_message_id, text, content, edited_at, deleted_at) "
                "VALUES ($1, $2, $3, 'inbound', 'text', 'received', $4, $5, $6, $7, $8)",
                w.tenant_id,
                w.conversation_id,
                w.integration_id,
                pmid,
                text,
                {"reply": {"kind": "button", "id": "yes", "title": "Yes"}},
                edited,
                deleted,
            )
    async with gateway.http(token(w.tenant_id)) as c:
        answer = await c.get(f"/v1/conversations/{w.conversation_id}/messages")
    assert answer.status_code == 200
    by_id = {m["provider_message_id"]: m for m in answer.json()["items"]}
    edited, deleted = by_id["wamid.edited"], by_id["wamid.deleted"]
    assert edited["text"] == "see you at 11" and edited["edited_at"] is not None
    assert edited["deleted_at"] is None and edited["reply"]["id"] == "yes"
    assert deleted["deleted_at"] is not None
    assert (deleted["text"], deleted["caption"], deleted["media"], deleted["reply"]) == (
        None,
        None,
        None,
        None,
    )
    assert "1234" not in answer.text
