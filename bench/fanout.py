"""Gateway fan-out: one agent's burst of conversation updates delivered to many websocket
clients of the tenant, measured on a system started afresh (``bench.ceilings`` has the bare
broadcast it is compared with)."""

import json
import time
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from bench.ceilings import FANOUT_FRAMES
from bench.procs import swarm
from bench.running import fresh_system
from bus.publisher import Outgoing, Publisher
from config import KafkaSettings
from contracts import ConversationUpdated, ConversationView, Provider, topics
from db.realtime_log import numbered, record
from db.tenant import tenant_tx
from devstack.services import ServiceSet
from devstack.stack import Stack


async def fanout(
    system: ServiceSet,
    stack: Stack,
    pool: asyncpg.Pool,
    tenant_id: UUID,
    integration_id: UUID,
    token: str,
    clients: int,
    frames: int,
) -> dict[str, Any]:
    assert stack.endpoints is not None
    bootstrap = stack.endpoints.kafka_bootstrap
    url = system.urls["gateway"].replace("http", "ws", 1) + "/v1/ws"
    handshake = [
        json.dumps({"type": "auth", "token": token}),
        json.dumps({"type": "subscribe", "channel": "inbox", "after": None}),
    ]
    async with tenant_tx(pool, tenant_id) as conn:
        contact_id = await conn.fetchval(
            "INSERT INTO contacts (tenant_id, integration_id, external_id) VALUES ($1, $2, $3) "
            "RETURNING id",
            tenant_id,
            integration_id,
            f"fan-{uuid4().hex[:8]}",
        )
        conversation_id = await conn.fetchval(
            "INSERT INTO conversations (tenant_id, integration_id, contact_id) "
            "VALUES ($1, $2, $3) RETURNING id",
            tenant_id,
            integration_id,
            contact_id,
        )

    async def burst(pub: Publisher) -> None:
        """Record ``frames`` conversation updates in one transaction and publish them in one
        call, as ingest-worker does a batch: the gateway then has them all at once, like the
        bare broadcast, and the span measures its fan-out rather than a producer's round
        trips (on a broker holding the earlier steps' records, 60 sequential publishes took
        seconds)."""
        from datetime import UTC, datetime

        events = [
            ConversationUpdated(
                conversation=ConversationView(
                    id=conversation_id,
                    integration_id=integration_id,
                    provider=Provider.META,
                    contact_id=contact_id,
                    status="open",
                    last_message_preview=f"bench:{time.time():.6f}",
                    updated_at=datetime.now(UTC),
                )
            )
            for _ in range(frames)
        ]
        async with tenant_tx(pool, tenant_id) as conn:
            recorded = await record(conn, tenant_id, events)
        stamped = await numbered(pool, recorded)
        await pub.publish_many([Outgoing(topics.REALTIME, str(tenant_id), e) for e in stamped])

    # The producer is connected before the clock starts: the span is the gateway's.
    async with Publisher(KafkaSettings(bootstrap=bootstrap)) as pub:
        return await swarm(
            url, clients, frames, "gateway", handshake, lambda: burst(pub), timeout_s=120
        )


async def fanout_fresh(root: Path, logs: Path, clients: int) -> dict[str, Any]:
    """Fan-out on a system started afresh, like each inbound step: after the outbound steps
    the embedded broker holds tens of thousands of records and costs more CPU per fetch
    (``bench.system``'s inbound steps), which would be measured as the gateway's."""
    async with fresh_system(root, logs, "fanout") as (running, stack):
        return await fanout(
            running.services,
            stack,
            running.pool,
            running.tenant_id,
            running.integration_id,
            running.token,
            clients,
            frames=FANOUT_FRAMES,
        )
