"""The route cache against the real database: webhooks that find an entry expired share one
load instead of each querying and decrypting again."""

import asyncio
from typing import Any

import asyncpg

from contracts import Provider
from credentials import Vault
from ingest.routing import Route, RouteCache
from tests.ingest.conftest import create_integration


class CountingCache(RouteCache):
    loads = 0

    async def _load(self, sql: str, *args: str) -> Route | None:
        self.loads += 1
        return await super()._load(sql, *args)


async def test_concurrent_lookups_of_an_expired_entry_load_it_once(
    app_pool: asyncpg.Pool, vault: Vault, make_tenant: Any, owner_conn: asyncpg.Connection
) -> None:
    tenant_id = await make_tenant("Route cache")
    integ = await create_integration(
        owner_conn, vault, tenant_id, "meta", "pn-route-cache", {"app_secret": "s3cret"}
    )
    cache = CountingCache(app_pool, vault, ttl_s=0)  # every lookup finds the entry expired

    routes = await asyncio.gather(*(cache.by_key(integ.webhook_key) for _ in range(20)))

    assert cache.loads == 1
    assert {r.integration_id for r in routes if r is not None} == {integ.integration_id}
    assert all(r is not None and r.provider is Provider.META for r in routes)
    await cache.by_key(integ.webhook_key)
    assert cache.loads == 2, "an expired entry is loaded again once the load is done"
