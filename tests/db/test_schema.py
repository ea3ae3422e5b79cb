"""Constraints that do the deduplication and ordering work, checked on the real schema."""

from uuid import uuid4

import asyncpg
import pytest

from credentials import Vault
from db.tenant import tenant_tx
from tests.db.graph import build_graph


async def test_the_same_provider_message_id_is_stored_once_per_integration(
    app_pool: asyncpg.Pool,
    vault: Vault,
    make_tenant,  # type: ignore[no-untyped-def]
) -> None:
    g = await build_graph(app_pool, vault, await make_tenant())
    insert = (
        "INSERT INTO messages (tenant_id, conversation_id, integration_id, direction, type, "
        "status, provider_message_id) VALUES ($1, $2, $3, 'inbound', 'text', 'received', 'dup') "
        "ON CONFLICT (integration_id, provider_message_id) "
        "WHERE provider_message_id IS NOT NULL DO NOTHING"
    )
    async with tenant_tx(app_pool, g.tenant_id) as conn:
        for _ in range(5):
            await conn.execute(insert, g.tenant_id, g.conversation_id, g.integration_id)
        count = await conn.fetchval(
            "SELECT count(*) FROM messages WHERE provider_message_id = 'dup'"
        )
    assert count == 1


async def test_a_client_message_id_is_unique_per_tenant(
    app_pool: asyncpg.Pool,
    vault: Vault,
    make_tenant,  # type: ignore[no-untyped-def]
) -> None:
    g = await build_graph(app_pool, vault, await make_tenant())
    insert = (
        "INSERT INTO messages (tenant_id, conversation_id, integration_id, direction, type, "
        "status, client_message_id) VALUES ($1, $2, $3, 'outbound', 'text', 'queued', $4)"
    )
    key = str(uuid4())
    async with tenant_tx(app_pool, g.tenant_id) as conn:
        await conn.execute(insert, g.tenant_id, g.conversation_id, g.integration_id, key)
    with pytest.raises(asyncpg.UniqueViolationError):
        async with tenant_tx(app_pool, g.tenant_id) as conn:
            await conn.execute(insert, g.tenant_id, g.conversation_id, g.integration_id, key)


@pytest.mark.parametrize(
    ("arrivals", "final"),
    [
        (["sent", "delivered", "read"], "read"),
        (["read", "delivered", "sent"], "read"),
        (["delivered", "delivered", "sent"], "delivered"),
        (["sent", "failed", "delivered"], "failed"),
    ],
)
async def test_status_rank_guard_only_moves_forward(
    app_pool: asyncpg.Pool,
    vault: Vault,
    make_tenant,
    arrivals: list[str],
    final: str,  # type: ignore[no-untyped-def]
) -> None:
    """The SQL guard the persister uses: update only to a higher rank, failed is terminal."""
    g = await build_graph(app_pool, vault, await make_tenant())
    async with tenant_tx(app_pool, g.tenant_id) as conn:
        message_id = await conn.fetchval(
            "INSERT INTO messages (tenant_id, conversation_id, integration_id, direction, type, "
            "status) VALUES ($1, $2, $3, 'outbound', 'text', 'queued') RETURNING id",
            g.tenant_id,
            g.conversation_id,
            g.integration_id,
        )
        for status in arrivals:
            await conn.execute(
                "UPDATE messages SET status = $2 WHERE id = $1 "
                "AND status <> 'failed' AND status_rank < status_rank($2) "
                "AND NOT ($2 = 'failed' AND status_rank > status_rank('sent'))",
                message_id,
                status,
            )
        assert await conn.fetchval("SELECT status FROM messages WHERE id = $1", message_id) == final


async def test_updated_at_moves_on_update(
    app_pool: asyncpg.Pool,
    vault: Vault,
    make_tenant,  # type: ignore[no-untyped-def]
) -> None:
    g = await build_graph(app_pool, vault, await make_tenant())
    async with tenant_tx(app_pool, g.tenant_id) as conn:
        before = await conn.fetchval(
            "SELECT updated_at FROM conversations WHERE id = $1", g.conversation_id
        )
    async with tenant_tx(app_pool, g.tenant_id) as conn:
        await conn.execute(
            "UPDATE conversations SET unread_count = 3 WHERE id = $1", g.conversation_id
        )
        after = await conn.fetchval(
            "SELECT updated_at FROM conversations WHERE id = $1", g.conversation_id
        )
    assert after > before


async def test_history_and_time_range_indexes_exist(app_pool: asyncpg.Pool) -> None:
    async with app_pool.acquire() as conn:
        indexes = {
            r["indexname"]: r["indexdef"]
            for r in await conn.fetch(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
            )
        }
    assert "(tenant_id, conversation_id, created_at, id)" in indexes["messages_history"]
    for brin in (
        "messages_created_brin",
        "webhook_logs_received_brin",
        "realtime_events_created_brin",
    ):
        assert "USING brin" in indexes[brin]


async def test_stored_credentials_are_encrypted(
    app_pool: asyncpg.Pool,
    vault: Vault,
    make_tenant,  # type: ignore[no-untyped-def]
) -> None:
    g = await build_graph(app_pool, vault, await make_tenant())
    async with tenant_tx(app_pool, g.tenant_id) as conn:
        raw = await conn.fetchval(
            "SELECT credentials FROM integrations WHERE id = $1", g.integration_id
        )
    assert b"secret-token" not in raw
    assert vault.open(raw)["access_token"] == "secret-token"
