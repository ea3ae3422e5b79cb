"""One row in every tenant table for a tenant, written as the application role."""

from dataclasses import dataclass
from uuid import UUID, uuid4

import asyncpg

from credentials import Vault
from db.provision import insert_integration
from db.tenant import tenant_tx


@dataclass(frozen=True)
class Graph:
    tenant_id: UUID
    integration_id: UUID
    webhook_key: str
    contact_id: UUID
    conversation_id: UUID
    message_id: UUID


async def build_graph(pool: asyncpg.Pool, vault: Vault, tenant_id: UUID) -> Graph:
    async with tenant_tx(pool, tenant_id) as conn:
        integration = await insert_integration(
            conn,
            vault,
            tenant_id=tenant_id,
            provider="meta",
            external_account_id=f"pn-{uuid4().hex[:12]}",
            credentials={"access_token": "secret-token", "app_secret": "app-secret"},
        )
        contact_id = await conn.fetchval(
            "INSERT INTO contacts (tenant_id, integration_id, external_id, phone, display_name) "
            "VALUES ($1, $2, '5511999990000', '5511999990000', 'Ana') RETURNING id",
            tenant_id,
            integration["id"],
        )
        conversation_id = await conn.fetchval(
            "INSERT INTO conversations (tenant_id, integration_id, contact_id) "
            "VALUES ($1, $2, $3) RETURNING id",
            tenant_id,
            integration["id"],
            contact_id,
        )
        message_id = await conn.fetchval(
            "INSERT INTO messages (tenant_id, conversation_id, integration_id, direction, type, "
            "status, provider_message_id, text) "
            "VALUES ($1, $2, $3, 'inbound', 'text', 'received', $4, 'hello') RETURNING id",
            tenant_id,
            conversation_id,
            integration["id"],
            f"wamid.{uuid4().hex}",
        )
        await conn.execute(
            "INSERT INTO parked_statuses (tenant_id, integration_id, provider_message_id, status, "
            "reported_at) VALUES ($1, $2, 'wamid.unknown', 'delivered', now())",
            tenant_id,
            integration["id"],
        )
        await conn.execute(
            "INSERT INTO webhook_logs (id, tenant_id, integration_id, provider, received_at, body, "
            "outcome) VALUES ($1, $2, $3, 'meta', now(), '{}', 'accepted')",
            uuid4(),
            tenant_id,
            integration["id"],
        )
        seq = await conn.fetchval(
            "UPDATE tenants SET realtime_seq = realtime_seq + 1 WHERE id = $1 "
            "RETURNING realtime_seq",
            tenant_id,
        )
        await conn.execute(
            "INSERT INTO realtime_events (tenant_id, seq, event_id, type, conversation_id, payload)"
            " VALUES ($1, $2, $3, 'message.created', $4, '{}')",
            tenant_id,
            seq,
            uuid4(),
            conversation_id,
        )
    return Graph(
        tenant_id,
        integration["id"],
        integration["webhook_key"],
        contact_id,
        conversation_id,
        message_id,
    )
