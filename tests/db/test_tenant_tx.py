"""``tenant_tx`` and ``savepoint`` against the real Postgres, on the services' pool: the tenant
is the transaction's alone, a failure rolls back, a savepoint undoes only its own part."""

from uuid import uuid4

import asyncpg
import pytest

from db.tenant import savepoint, tenant_tx


async def test_the_tenant_setting_ends_with_the_transaction(
    app_pool: asyncpg.Pool, make_tenant
) -> None:  # type: ignore[no-untyped-def]
    tenant = await make_tenant("Tx")
    async with tenant_tx(app_pool, tenant) as conn:
        assert await conn.fetchval("SELECT app_tenant()") == tenant
        assert await conn.fetchval("SELECT count(*) FROM tenants") == 1
    # The pool resets no session state on release (db/pool.py): nothing is left to reset.
    for _ in range(4):
        async with app_pool.acquire() as conn:
            assert await conn.fetchval("SELECT app_tenant()") is None
            assert await conn.fetchval("SELECT count(*) FROM tenants") == 0
            assert not conn.is_in_transaction()


async def test_an_error_rolls_back_and_the_connection_is_clean(
    app_pool: asyncpg.Pool, make_tenant
) -> None:  # type: ignore[no-untyped-def]
    tenant = await make_tenant("Tx")
    with pytest.raises(asyncpg.UndefinedTableError):
        async with tenant_tx(app_pool, tenant) as conn:
            await conn.execute("UPDATE tenants SET name = 'changed' WHERE id = $1", tenant)
            await conn.execute("SELECT * FROM no_such_table")
    with pytest.raises(RuntimeError):
        async with tenant_tx(app_pool, tenant) as conn:
            await conn.execute("UPDATE tenants SET name = 'changed' WHERE id = $1", tenant)
            raise RuntimeError("the handler failed")
    async with tenant_tx(app_pool, tenant) as conn:
        assert await conn.fetchval("SELECT name FROM tenants") == "Tx"


async def test_commits_what_it_did(app_pool: asyncpg.Pool, make_tenant) -> None:  # type: ignore[no-untyped-def]
    tenant = await make_tenant("Tx")
    async with tenant_tx(app_pool, tenant) as conn:
        await conn.execute("UPDATE tenants SET name = 'renamed' WHERE id = $1", tenant)
    async with tenant_tx(app_pool, tenant) as conn:
        assert await conn.fetchval("SELECT name FROM tenants") == "renamed"


async def test_a_savepoint_undoes_only_its_part(app_pool: asyncpg.Pool, make_tenant) -> None:  # type: ignore[no-untyped-def]
    tenant = await make_tenant("Tx")
    member, slug = f"user-{uuid4().hex[:6]}", f"after-{uuid4().hex[:8]}"
    async with tenant_tx(app_pool, tenant) as conn:
        await conn.execute("UPDATE tenants SET name = 'kept' WHERE id = $1", tenant)
        with pytest.raises(asyncpg.UniqueViolationError):
            async with savepoint(conn):
                insert = (
                    "INSERT INTO tenant_members (tenant_id, user_id, role) VALUES ($1, $2, 'agent')"
                )
                await conn.execute(insert, tenant, member)
                await conn.execute(insert, tenant, member)
        async with savepoint(conn):
            await conn.execute("UPDATE tenants SET slug = $2 WHERE id = $1", tenant, slug)
    async with tenant_tx(app_pool, tenant) as conn:
        row = await conn.fetchrow("SELECT name, slug FROM tenants")
        members = await conn.fetchval(
            "SELECT count(*) FROM tenant_members WHERE user_id = $1", member
        )
    assert (row["name"], row["slug"], members) == ("kept", slug, 0)
