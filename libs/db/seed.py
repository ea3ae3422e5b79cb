"""Demo data for ``make dev``: one tenant with an agent and an admin. Idempotent."""

from uuid import UUID

import asyncpg

from db.provision import insert_tenant, upsert_member

DEMO_TENANT_ID = UUID("00000000-0000-4000-8000-000000000001")
DEMO_TENANT_SLUG = "demo"
DEMO_AGENT = "demo-agent"
DEMO_ADMIN = "demo-admin"


async def seed_demo(owner_url: str) -> UUID:
    conn = await asyncpg.connect(owner_url)
    try:
        async with conn.transaction():
            # RLS is FORCEd for the owner too (only a superuser skips it): set the tenant.
            await conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(DEMO_TENANT_ID))
            await insert_tenant(
                conn, tenant_id=DEMO_TENANT_ID, name="Demo Store", slug=DEMO_TENANT_SLUG
            )
            await upsert_member(conn, tenant_id=DEMO_TENANT_ID, user_id=DEMO_AGENT, role="agent")
            await upsert_member(conn, tenant_id=DEMO_TENANT_ID, user_id=DEMO_ADMIN, role="admin")
    finally:
        await conn.close()
    return DEMO_TENANT_ID
