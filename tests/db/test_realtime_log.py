"""Realtime cursors: consecutive, per tenant, stored with the event for replay."""

import asyncio
from datetime import UTC, datetime
from uuid import uuid4

import asyncpg

from contracts import ConversationUpdated, ConversationView, Provider
from credentials import Vault
from db.realtime_log import record
from db.tenant import tenant_tx
from tests.db.graph import build_graph


def _event(conversation_id, integration_id, contact_id) -> ConversationUpdated:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    return ConversationUpdated(
        conversation=ConversationView(
            id=conversation_id,
            integration_id=integration_id,
            provider=Provider.META,
            contact_id=contact_id,
            status="open",
            updated_at=now,
        )
    )


async def test_concurrent_writers_get_gapless_cursors_in_commit_order(
    app_pool: asyncpg.Pool,
    vault: Vault,
    make_tenant,  # type: ignore[no-untyped-def]
) -> None:
    g = await build_graph(app_pool, vault, await make_tenant())
    ev = _event(g.conversation_id, g.integration_id, g.contact_id)

    async def writer(n: int) -> list[int]:
        async with tenant_tx(app_pool, g.tenant_id) as conn:
            stamped = await record(
                conn, g.tenant_id, [ev.model_copy(update={"event_id": uuid4()}) for _ in range(n)]
            )
            await asyncio.sleep(0.01)  # hold the transaction open while others queue behind
        return [e.cursor for e in stamped if e.cursor is not None]

    results = await asyncio.gather(*(writer(3) for _ in range(8)))
    cursors = sorted(c for r in results for c in r)
    assert cursors == list(range(cursors[0], cursors[0] + 24))
    for r in results:
        assert r == list(range(r[0], r[0] + 3))
    async with tenant_tx(app_pool, g.tenant_id) as conn:
        stored = [
            row["seq"]
            for row in await conn.fetch(
                "SELECT seq FROM realtime_events WHERE tenant_id = $1 AND seq >= $2 ORDER BY seq",
                g.tenant_id,
                cursors[0],
            )
        ]
    assert stored == cursors
