"""The only way the application touches tenant data: a transaction bound to one tenant."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

import asyncpg
from asyncpg.pool import PoolConnectionProxy

# What a pooled connection is; it offers the whole Connection API.
Connection = asyncpg.Connection | PoolConnectionProxy


@asynccontextmanager
async def tenant_tx(pool: asyncpg.Pool, tenant_id: UUID) -> AsyncIterator[Connection]:
    """Open a transaction with ``app.tenant_id`` set for it alone (``is_local``), so a pooled
    connection never carries one tenant's identity into another's work."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant_id))
        yield conn
