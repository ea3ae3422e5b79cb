"""The only way the application touches tenant data: a transaction bound to one tenant."""

import contextlib
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

import asyncpg
from asyncpg.pool import PoolConnectionProxy

# What a pooled connection is; it offers the whole Connection API.
Connection = asyncpg.Connection | PoolConnectionProxy

_SAVEPOINTS = itertools.count(1)


@asynccontextmanager
async def tenant_tx(pool: asyncpg.Pool, tenant_id: UUID) -> AsyncIterator[Connection]:
    """Open a transaction with ``app.tenant_id`` set for it alone (``is_local``), so a pooled
    connection never carries one tenant's identity into another's work.

    BEGIN and the setting go to the server as one simple query (one round trip, not two):
    every tenant transaction starts here, and on a loaded machine each round trip costs both
    processes a wake-up. The id is a UUID, printed canonically, the only text interpolated.
    Inside, use ``savepoint`` rather than ``conn.transaction()`` (asyncpg refuses a nested
    transaction in one it did not start)."""
    tenant = str(UUID(str(tenant_id)))
    async with pool.acquire() as conn:
        await conn.execute(f"BEGIN; SELECT set_config('app.tenant_id', '{tenant}', true)")
        try:
            yield conn
        except BaseException:
            # A failed ROLLBACK (the connection broke, a query was cut off) is the pool's to
            # clean up: it rolls back or closes the connection on release.
            with contextlib.suppress(Exception):
                if not conn.is_closed() and conn.is_in_transaction():
                    await conn.execute("ROLLBACK")
            raise
        await conn.execute("COMMIT")


@asynccontextmanager
async def savepoint(conn: Connection) -> AsyncIterator[None]:
    """A savepoint in a ``tenant_tx``: an error inside (a unique conflict) undoes only what
    was done inside, and the transaction stays usable."""
    name = f"omni_sp_{next(_SAVEPOINTS)}"
    await conn.execute(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            await conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
        raise
    await conn.execute(f"RELEASE SAVEPOINT {name}")
