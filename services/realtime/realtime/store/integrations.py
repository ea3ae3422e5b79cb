"""Integrations as admins manage them; credentials are written here and never read back out
(except decrypted for the health check, which never returns them)."""

from typing import Any
from uuid import UUID

import asyncpg

from db.tenant import Connection

COLUMNS = """
id, provider, external_account_id, display_name, webhook_key, verify_token, api_base_url,
rate_limit_per_s, group_messages, status, status_reason, created_at, updated_at
"""


async def all_(conn: Connection) -> list[asyncpg.Record]:
    sql = f"SELECT {COLUMNS} FROM integrations ORDER BY created_at, id"  # noqa: S608 (constant)
    return list(await conn.fetch(sql))


async def get(conn: Connection, *, integration_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {COLUMNS} FROM integrations WHERE id = $1",  # noqa: S608 (constant)
        integration_id,
    )


async def sealed_credentials(conn: Connection, *, integration_id: UUID) -> bytes | None:
    value: bytes | None = await conn.fetchval(
        "SELECT credentials FROM integrations WHERE id = $1", integration_id
    )
    return value


async def update(
    conn: Connection, *, integration_id: UUID, changes: dict[str, Any]
) -> asyncpg.Record | None:
    allowed = {
        "display_name",
        "api_base_url",
        "rate_limit_per_s",
        "group_messages",
        "status",
        "credentials",
    }
    items = [(k, v) for k, v in changes.items() if k in allowed]
    if items:
        sets = ", ".join(f"{k} = ${i + 2}" for i, (k, _) in enumerate(items))
        await conn.execute(
            f"UPDATE integrations SET {sets} WHERE id = $1",  # noqa: S608 (constant or allow-listed names; values bound)
            integration_id,
            *[v for _, v in items],
        )
    return await get(conn, integration_id=integration_id)


async def delete(conn: Connection, *, integration_id: UUID) -> bool:
    deleted = await conn.fetchval(
        "DELETE FROM integrations WHERE id = $1 RETURNING id", integration_id
    )
    return deleted is not None
