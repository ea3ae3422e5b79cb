"""Creating tenants and integrations: used by the demo seed, the admin API and tests.

Functions take a connection whose transaction already has the tenant set (``tenant_tx``), so
row-level security checks every row they write.
"""

import secrets
from typing import Any
from uuid import UUID

import asyncpg

from credentials import Vault
from db.tenant import Connection


async def insert_tenant(conn: Connection, *, tenant_id: UUID, name: str, slug: str) -> None:
    await conn.execute(
        "INSERT INTO tenants (id, name, slug) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
        tenant_id,
        name,
        slug,
    )


async def upsert_member(conn: Connection, *, tenant_id: UUID, user_id: str, role: str) -> None:
    await conn.execute(
        "INSERT INTO tenant_members (tenant_id, user_id, role) VALUES ($1, $2, $3) "
        "ON CONFLICT (tenant_id, user_id) DO UPDATE SET role = EXCLUDED.role",
        tenant_id,
        user_id,
        role,
    )


def new_webhook_key() -> str:
    """The unguessable path segment of an integration's webhook URL (256 bits)."""
    return secrets.token_urlsafe(32)


async def insert_integration(
    conn: Connection,
    vault: Vault,
    *,
    tenant_id: UUID,
    provider: str,
    external_account_id: str,
    credentials: dict[str, Any],
    display_name: str | None = None,
    api_base_url: str | None = None,
    rate_limit_per_s: float | None = None,
    group_messages: str = "ignore",
    webhook_key: str | None = None,
    integration_id: UUID | None = None,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """
        INSERT INTO integrations (id, tenant_id, provider, external_account_id, display_name,
                                  webhook_key, verify_token, credentials, api_base_url,
                                  rate_limit_per_s, group_messages)
        VALUES (COALESCE($1, gen_random_uuid()), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        RETURNING id, tenant_id, provider, external_account_id, webhook_key, verify_token, status
        """,
        integration_id,
        tenant_id,
        provider,
        external_account_id,
        display_name,
        webhook_key or new_webhook_key(),
        secrets.token_urlsafe(24),
        vault.seal(credentials),
        api_base_url,
        rate_limit_per_s,
        group_messages,
    )
    assert row is not None
    return row
