"""Row-level security, proven against the real Postgres as the application role."""

import asyncpg
import pytest

from credentials import Vault
from db.tenant import tenant_tx
from tests.db.graph import build_graph

TENANT_TABLES = [
    "tenants",
    "tenant_members",
    "integrations",
    "contacts",
    "conversations",
    "messages",
    "parked_statuses",
    "webhook_logs",
    "realtime_events",
]


@pytest.fixture
async def two_tenants(app_pool: asyncpg.Pool, vault: Vault, make_tenant):  # type: ignore[no-untyped-def]
    a, b = await make_tenant("A"), await make_tenant("B")
    return await build_graph(app_pool, vault, a), await build_graph(app_pool, vault, b)


async def test_app_role_is_neither_superuser_owner_nor_bypassrls(app_pool: asyncpg.Pool) -> None:
    async with app_pool.acquire() as conn:
        role = await conn.fetchrow(
            "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        owned = await conn.fetchval(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = $1",
            role["rolname"],
        )
    assert role["rolname"] == "omni_app"
    assert role["rolsuper"] is False and role["rolbypassrls"] is False
    assert owned == 0


async def test_every_table_with_a_tenant_is_forced_under_rls(app_pool: asyncpg.Pool) -> None:
    async with app_pool.acquire() as conn:
        rows = await conn.fetch(
            """
            SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r'
              AND (c.relname = 'tenants' OR EXISTS (
                    SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                    AND a.attname = 'tenant_id' AND NOT a.attisdropped))
              AND c.relname <> 'integration_routes'
            """
        )
    tables = {r["relname"]: (r["relrowsecurity"], r["relforcerowsecurity"]) for r in rows}
    assert set(tables) == set(TENANT_TABLES)
    assert all(enabled and forced for enabled, forced in tables.values()), tables


@pytest.mark.parametrize("table", TENANT_TABLES)
async def test_without_a_tenant_queries_see_nothing(
    app_pool: asyncpg.Pool, two_tenants: object, table: str
) -> None:
    async with app_pool.acquire() as conn:
        assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0


@pytest.mark.parametrize("table", TENANT_TABLES)
async def test_a_tenant_sees_only_its_own_rows(
    app_pool: asyncpg.Pool,
    two_tenants: tuple,
    table: str,  # type: ignore[type-arg]
) -> None:
    a, _ = two_tenants
    column = "id" if table == "tenants" else "tenant_id"
    async with tenant_tx(app_pool, a.tenant_id) as conn:
        seen = {r[0] for r in await conn.fetch(f"SELECT {column} FROM {table}")}
    assert seen == {a.tenant_id}


async def test_a_tenant_cannot_read_another_tenants_row_by_id(
    app_pool: asyncpg.Pool,
    two_tenants: tuple,  # type: ignore[type-arg]
) -> None:
    a, b = two_tenants
    async with tenant_tx(app_pool, a.tenant_id) as conn:
        assert await conn.fetchrow("SELECT * FROM messages WHERE id = $1", b.message_id) is None
        assert (
            await conn.fetchrow("SELECT * FROM conversations WHERE id = $1", b.conversation_id)
            is None
        )
        updated = await conn.execute(
            "UPDATE messages SET text = 'pwned' WHERE id = $1", b.message_id
        )
    assert updated == "UPDATE 0"


async def test_inserting_a_row_for_another_tenant_fails(
    app_pool: asyncpg.Pool,
    two_tenants: tuple,  # type: ignore[type-arg]
) -> None:
    a, b = two_tenants
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with tenant_tx(app_pool, a.tenant_id) as conn:
            await conn.execute(
                "INSERT INTO contacts (tenant_id, integration_id, external_id) "
                "VALUES ($1, $2, 'intruder')",
                b.tenant_id,
                b.integration_id,
            )


async def test_moving_a_row_to_another_tenant_fails(
    app_pool: asyncpg.Pool,
    two_tenants: tuple,  # type: ignore[type-arg]
) -> None:
    a, b = two_tenants
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with tenant_tx(app_pool, a.tenant_id) as conn:
            await conn.execute(
                "UPDATE webhook_logs SET tenant_id = $1 WHERE tenant_id = $2",
                b.tenant_id,
                a.tenant_id,
            )


async def test_the_tenant_does_not_leak_to_the_next_use_of_a_pooled_connection(
    app_pool: asyncpg.Pool,
    two_tenants: tuple,  # type: ignore[type-arg]
) -> None:
    a, _ = two_tenants
    async with tenant_tx(app_pool, a.tenant_id):
        pass
    # A pool of one would hand back the same connection; check every connection in the pool.
    for _ in range(app_pool.get_size()):
        async with app_pool.acquire() as conn:
            assert await conn.fetchval("SELECT app_tenant()") is None
            assert await conn.fetchval("SELECT count(*) FROM messages") == 0


async def test_routing_works_before_the_tenant_is_known_but_the_table_is_closed(
    app_pool: asyncpg.Pool,
    two_tenants: tuple,  # type: ignore[type-arg]
) -> None:
    a, _ = two_tenants
    async with app_pool.acquire() as conn:
        route = await conn.fetchrow("SELECT * FROM route_by_webhook_key($1)", a.webhook_key)
        assert route["tenant_id"] == a.tenant_id
        assert route["integration_id"] == a.integration_id
        assert await conn.fetchrow("SELECT * FROM route_by_webhook_key('nope')") is None
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.fetch("SELECT * FROM integration_routes")


async def test_disabling_an_integration_updates_its_route(
    app_pool: asyncpg.Pool,
    two_tenants: tuple,  # type: ignore[type-arg]
) -> None:
    a, _ = two_tenants
    async with tenant_tx(app_pool, a.tenant_id) as conn:
        await conn.execute(
            "UPDATE integrations SET status = 'disabled' WHERE id = $1", a.integration_id
        )
    async with app_pool.acquire() as conn:
        route = await conn.fetchrow("SELECT * FROM route_by_webhook_key($1)", a.webhook_key)
    assert route["status"] == "disabled"
