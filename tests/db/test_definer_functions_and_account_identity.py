"""Migration 0005 on the real schema: every SECURITY DEFINER function resolves names in
``public`` then ``pg_temp`` only; an account's identity across tenants is (provider, account)
for Meta and Z-API and (provider, account, server) for Evolution."""

from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from credentials import Vault
from db.provision import insert_integration
from db.tenant import tenant_tx


async def test_every_security_definer_function_pins_its_search_path(
    owner_conn: asyncpg.Connection,
) -> None:
    rows = await owner_conn.fetch(
        """
        SELECT p.oid::regprocedure::text AS name, p.proconfig
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        """
    )
    names = {r["name"] for r in rows}
    assert {"route_by_webhook_key(text)", "route_by_account(text,text)"} <= names
    unpinned = [
        r["name"] for r in rows if "search_path=public, pg_temp" not in (r["proconfig"] or [])
    ]
    assert unpinned == []


async def _integration(
    pool: asyncpg.Pool, vault: Vault, tenant: UUID, provider: str, account: str, base: str | None
) -> None:
    async with tenant_tx(pool, tenant) as conn:
        await insert_integration(
            conn,
            vault,
            tenant_id=tenant,
            provider=provider,
            external_account_id=account,
            credentials={"k": "v"},
            api_base_url=base,
        )


async def test_evolution_instances_are_told_apart_by_their_server(
    app_pool: asyncpg.Pool, vault: Vault, make_tenant: Any
) -> None:
    a, b = await make_tenant(), await make_tenant()
    instance = f"main-{uuid4().hex[:8]}"
    await _integration(app_pool, vault, a, "evolution", instance, "https://evo-a.example.com")
    await _integration(app_pool, vault, b, "evolution", instance, "https://evo-b.example.com")
    with pytest.raises(asyncpg.UniqueViolationError):
        await _integration(app_pool, vault, b, "evolution", instance, "https://evo-a.example.com")


@pytest.mark.parametrize("provider", ["meta", "zapi"])
async def test_meta_and_zapi_accounts_are_unique_whatever_the_base_url(
    app_pool: asyncpg.Pool, vault: Vault, make_tenant: Any, provider: str
) -> None:
    a, b = await make_tenant(), await make_tenant()
    account = f"acc-{uuid4().hex[:8]}"
    await _integration(app_pool, vault, a, provider, account, None)
    with pytest.raises(asyncpg.UniqueViolationError):
        await _integration(app_pool, vault, b, provider, account, "https://other.example.com")
