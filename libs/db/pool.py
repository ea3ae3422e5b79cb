"""The asyncpg pool of the application role, created in a service's lifespan."""

import asyncpg
import orjson

from config.shared import DatabaseSettings


async def _init_connection(conn: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(
            name,
            encoder=lambda v: orjson.dumps(v).decode(),
            decoder=orjson.loads,
            schema="pg_catalog",
        )


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Nothing to reset on release beyond an open transaction (asyncpg rolls that back first):
    the services set only transaction-local settings (``tenant_tx``), take no session locks
    and LISTEN to nothing on pooled connections, so asyncpg's default reset query (RESET ALL,
    UNLISTEN, CLOSE ALL, advisory unlock) would be a round trip per release for nothing."""


async def create_pool(settings: DatabaseSettings) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        settings.app_database_url.get_secret_value(),
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        command_timeout=settings.db_command_timeout_s,
        init=_init_connection,
        reset=_keep_session,
    )
    assert pool is not None
    return pool
