"""``omni credentials rotate``: re-encrypt every integration's credentials under the newest key."""

import asyncpg

from config import CredentialSettings, load
from credentials import Vault
from omnicli.settings import MigrateSettings


async def rotate_all() -> int:
    vault = Vault.from_settings(load(CredentialSettings))
    conn = await asyncpg.connect(load(MigrateSettings).database_url.get_secret_value())
    count = 0
    try:
        # integration_routes has no RLS (only the owner reads it), so it lists every tenant
        # that has integrations even when the owner is not a superuser.
        tenants = [
            r["tenant_id"]
            for r in await conn.fetch("SELECT DISTINCT tenant_id FROM integration_routes")
        ]
        for tenant_id in tenants:
            async with conn.transaction():
                # RLS is FORCEd for the owner too: rotate tenant by tenant.
                await conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant_id))
                rows = await conn.fetch("SELECT id, credentials FROM integrations FOR UPDATE")
                for row in rows:
                    await conn.execute(
                        "UPDATE integrations SET credentials = $2 WHERE id = $1",
                        row["id"],
                        vault.rotate(row["credentials"]),
                    )
                    count += 1
    finally:
        await conn.close()
    return count
