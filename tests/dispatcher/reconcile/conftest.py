"""Fixtures of the "may have been sent" tests: the whole outbound loop in this process. A
dispatcher whose provider read timeout is short, the provider simulator posting real signed
webhooks (echoes, statuses) to an in-process ingest-api, and ingest-worker applying them.

Integrations are wired the way production has them: our row holds the webhook secret, the
simulator posts to the integration's webhook URL; Evolution contacts are keyed by their JID
(what Evolution's webhooks name the chat by), the others by phone.
"""

import asyncio
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest

from config.shared import DatabaseSettings, KafkaSettings, S3Settings
from contracts import Provider
from contracts.outbound import OutboundText
from credentials import Vault
from db.tenant import tenant_tx
from devstack.process import free_port
from dispatcher.calls import RetryPolicy
from dispatcher.deps import Deps
from ingest import worker
from ingest.settings import IngestSettings
from providers.egress import EgressPolicy
from providers.http import create_client
from tests.dispatcher.conftest import (
    Dispatcher,
    Sim,
    Wired,
    build_deps,
    credentials_for,
    queue,
)
from tests.dispatcher.outbound import make_conversation, make_integration
from tests.ingest.api_fixtures import api_settings, serving

READ_S = 0.5  # DISPATCHER_HTTP_READ_S of these tests
LATE_S = 1.5  # how late the simulator answers: beyond READ_S
PATIENT_READ_S = 30.0
POLICY = RetryPolicy(max_attempts=4, initial_s=0.05, max_s=0.2, max_hint_s=10.0)


@pytest.fixture(scope="module")
async def ingest_url(
    db_settings: DatabaseSettings, kafka_settings: KafkaSettings, vault: Vault
) -> AsyncIterator[str]:
    """ingest-api and ingest-worker in this process for the module; the api's base URL."""
    settings = IngestSettings(OPS_PORT=free_port(), reconcile_interval_s=0.5)  # type: ignore[call-arg]
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(settings, db_settings, kafka_settings, stop))
    try:
        async with serving(api_settings(), db_settings, kafka_settings, vault) as served:
            yield served.url
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


@pytest.fixture(scope="module")
async def short_http(sim: Sim) -> AsyncIterator[httpx.AsyncClient]:
    """The provider client as the dispatcher makes it, with a read timeout of READ_S."""
    async with create_client(
        EgressPolicy.reaching(sim.base_url), connect_s=2.0, read_s=READ_S, write_s=READ_S
    ) as client:
        yield client


@asynccontextmanager
async def _running(deps: Deps, kafka_settings: KafkaSettings) -> AsyncIterator[Dispatcher]:
    running = Dispatcher(deps, kafka_settings)
    await running.consumer.start()
    stop = asyncio.Event()
    task = asyncio.create_task(running.consumer.run(stop))
    try:
        yield running
    finally:
        stop.set()
        await task
        await running.consumer.stop()


@pytest.fixture(scope="module")
async def unsure_dispatcher(
    app_pool: asyncpg.Pool,
    vault: Vault,
    short_http: httpx.AsyncClient,
    publisher: Any,
    s3_client: Any,
    s3_settings: S3Settings,
    kafka_settings: KafkaSettings,
) -> AsyncIterator[Dispatcher]:
    """A dispatcher whose provider answers time out after READ_S."""
    deps = build_deps(
        app_pool,
        vault,
        short_http,
        publisher,
        s3_client,
        s3_settings.bucket,
        policy=POLICY,
        concurrency=32,
    )
    async with _running(deps, kafka_settings) as running:
        yield running


@pytest.fixture(scope="module")
async def patient_dispatcher(
    app_pool: asyncpg.Pool,
    vault: Vault,
    publisher: Any,
    s3_client: Any,
    s3_settings: S3Settings,
    kafka_settings: KafkaSettings,
    sim: Sim,
) -> AsyncIterator[Dispatcher]:
    """A dispatcher that waits PATIENT_READ_S for an answer: long enough for a slow machine
    to let a webhook posted before the answer reach the database first."""
    policy = EgressPolicy.reaching(sim.base_url)
    async with create_client(policy, read_s=PATIENT_READ_S) as http:
        deps = build_deps(
            app_pool, vault, http, publisher, s3_client, s3_settings.bucket, policy=POLICY
        )
        async with _running(deps, kafka_settings) as running:
            yield running


@dataclass(frozen=True)
class Reporting:
    """A tenant's integration whose provider reports back to ingest-api (webhooks on)."""

    tenant_id: UUID
    provider: Provider
    account: str
    integration_id: UUID
    pool: asyncpg.Pool

    async def conversation(self) -> Wired:
        """A new conversation with a new customer."""
        phone = f"55119{secrets.randbelow(10**8):08d}"
        chat = f"{phone}@s.whatsapp.net" if self.provider is Provider.EVOLUTION else phone
        conversation = await make_conversation(self.pool, self.tenant_id, self.integration_id, chat)
        return Wired(
            self.tenant_id, self.provider, self.account, self.integration_id, conversation, chat
        )


async def wire_reporting(
    pool: asyncpg.Pool,
    vault: Vault,
    sim: Sim,
    ingest_url: str,
    tenant_id: UUID,
    provider: Provider,
    *,
    echo: bool = False,
) -> Reporting:
    """``echo``: the simulator echoes every accepted send (Evolution, Z-API); the accepting
    faults echo theirs anyway."""
    account = f"{provider.value}-{uuid4().hex[:10]}"
    token = secrets.token_urlsafe(16)
    secret = secrets.token_urlsafe(16)
    meta = provider is Provider.META
    credentials: dict[str, Any] = credentials_for(provider, account, token)
    credentials |= {"app_secret": secret} if meta else {"webhook_secret": secret}
    integration = await make_integration(
        pool,
        vault,
        tenant_id,
        provider=provider,
        credentials=credentials,
        api_base_url=sim.base_url,
        external_account_id=account,
    )
    async with tenant_tx(pool, tenant_id) as conn:
        webhook_key = await conn.fetchval(
            "SELECT webhook_key FROM integrations WHERE id = $1", integration
        )
    await sim.control.register(
        provider,
        account,
        webhook_url=f"{ingest_url}/webhooks/{provider.value}/{webhook_key}",
        app_secret=secret if meta else None,
        webhook_secret=None if meta else secret,
        access_token=token,
        client_token=f"ct-{token}" if provider is Provider.ZAPI else None,
        statuses=True,
        echo=echo,
    )
    return Reporting(tenant_id, provider, account, integration, pool)


async def queue_texts(reporting: Reporting, count: int, per_conversation: int) -> list[Any]:
    """``count`` queued text sends, ``per_conversation`` to a conversation, each text unique."""
    events: list[Any] = []
    while len(events) < count:
        wired = await reporting.conversation()
        for _ in range(min(per_conversation, count - len(events))):
            text = OutboundText(body=f"message {len(events)} {uuid4().hex[:8]}")
            events.append(await queue(reporting.pool, wired, text))
    return events


async def rows(pool: asyncpg.Pool, tenant_id: UUID, ids: Sequence[UUID]) -> list[asyncpg.Record]:
    async with tenant_tx(pool, tenant_id) as conn:
        return list(
            await conn.fetch("SELECT * FROM messages WHERE id = ANY($1::uuid[])", list(ids))
        )
