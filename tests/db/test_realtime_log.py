"""Realtime cursors: consecutive, per tenant, stored with the event for replay."""

import asyncio
from datetime import UTC, datetime
from uuid import uuid4

import asyncpg
import pytest

from contracts import ConversationUpdated, ConversationView, Provider
from credentials import Vault
from db.realtime_log import numbered, record
from db.tenant import tenant_tx
from tests.db.graph import Graph, build_graph


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


@pytest.fixture
async def world(
    app_pool: asyncpg.Pool,
    vault: Vault,
    make_tenant,  # type: ignore[no-untyped-def]
) -> tuple[Graph, ConversationUpdated]:
    """A tenant with a conversation, and an event of that conversation to record."""
    g = await build_graph(app_pool, vault, await make_tenant())
    return g, _event(g.conversation_id, g.integration_id, g.contact_id)


async def test_concurrent_writers_get_gapless_cursors_in_commit_order(
    app_pool: asyncpg.Pool, world: tuple[Graph, ConversationUpdated]
) -> None:
    g, ev = world

    async def writer(n: int) -> list[int]:
        async with tenant_tx(app_pool, g.tenant_id) as conn:
            recorded = await record(
                conn, g.tenant_id, [ev.model_copy(update={"event_id": uuid4()}) for _ in range(n)]
            )
            await asyncio.sleep(0.01)  # hold the transaction open while others record too
        stamped = await numbered(app_pool, recorded)
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


async def test_cursors_are_given_at_commit_in_recording_order_and_stored_in_the_payload(
    app_pool: asyncpg.Pool, world: tuple[Graph, ConversationUpdated]
) -> None:
    g, ev = world
    events = [ev.model_copy(update={"event_id": uuid4()}) for _ in range(5)]
    async with tenant_tx(app_pool, g.tenant_id) as conn:
        before = await conn.fetchval("SELECT realtime_seq FROM tenants")
        recorded = await record(conn, g.tenant_id, events)
        # Until the commit the tenant's cursor is untouched (no lock taken) and the events
        # hold placeholders that no other transaction can see.
        assert await conn.fetchval("SELECT realtime_seq FROM tenants") == before
        async with tenant_tx(app_pool, g.tenant_id) as other:
            assert await other.fetchval("SELECT count(*) FROM realtime_events WHERE seq < 0") == 0
            # Another writer is not held up by this open transaction.
            await record(other, g.tenant_id, [ev.model_copy(update={"event_id": uuid4()})])
    stamped = await numbered(app_pool, recorded)
    first = before + 2  # the other writer committed first and took before + 1
    assert [e.cursor for e in stamped] == list(range(first, first + 5))
    assert [e.event_id for e in stamped] == [e.event_id for e in events]
    async with tenant_tx(app_pool, g.tenant_id) as conn:
        rows = await conn.fetch(
            "SELECT seq, event_id, (payload->>'cursor')::bigint AS in_payload "
            "FROM realtime_events WHERE seq >= $1 ORDER BY seq",
            first,
        )
        assert await conn.fetchval("SELECT realtime_seq FROM tenants") == first + 4
        assert await conn.fetchval("SELECT count(*) FROM realtime_events WHERE seq < 0") == 0
    assert [(r["seq"], r["event_id"]) for r in rows] == [(e.cursor, e.event_id) for e in stamped]
    assert all(r["in_payload"] == r["seq"] for r in rows)


async def test_a_rolled_back_transaction_takes_no_cursor(
    app_pool: asyncpg.Pool, world: tuple[Graph, ConversationUpdated]
) -> None:
    g, ev = world
    async with tenant_tx(app_pool, g.tenant_id) as conn:
        before = await conn.fetchval("SELECT realtime_seq FROM tenants")
    with pytest.raises(RuntimeError):
        async with tenant_tx(app_pool, g.tenant_id) as conn:
            recorded = await record(
                conn, g.tenant_id, [ev.model_copy(update={"event_id": uuid4()})]
            )
            raise RuntimeError("the handler failed")
    with pytest.raises(LookupError):
        await numbered(app_pool, recorded)
    async with tenant_tx(app_pool, g.tenant_id) as conn:
        assert await conn.fetchval("SELECT realtime_seq FROM tenants") == before


async def test_cursors_of_another_tenant_are_not_read(
    app_pool: asyncpg.Pool,
    vault: Vault,
    make_tenant,  # type: ignore[no-untyped-def]
) -> None:
    a = await build_graph(app_pool, vault, await make_tenant("A"))
    b = await make_tenant("B")
    ev = _event(a.conversation_id, a.integration_id, a.contact_id)
    async with tenant_tx(app_pool, a.tenant_id) as conn:
        recorded = await record(conn, a.tenant_id, [ev])
    with pytest.raises(LookupError):
        await numbered(app_pool, [e.model_copy(update={"tenant_id": b}) for e in recorded])
