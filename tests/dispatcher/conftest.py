"""Fixtures of the dispatcher tests: its dependencies over the real stack, and an in-process
consumer of the outbound topic that only touches the records of the test's own tenants (the
topic is shared by the whole session)."""

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest
from aiobotocore.session import get_session
from aiokafka import AIOKafkaConsumer

from bus.consumer import Received
from bus.publisher import Outgoing, Publisher
from config.shared import KafkaSettings, S3Settings
from contracts import Provider, SendRequested, topics
from contracts.codec import decode
from credentials import Vault
from db.tenant import tenant_tx
from dispatcher.calls import ProviderCalls, RetryPolicy
from dispatcher.deps import Deps
from dispatcher.lanes import LaneConsumer, LaneOptions
from dispatcher.media import MediaLinks
from dispatcher.ratelimit import Buckets
from dispatcher.requeue import outbound_key
from dispatcher.worker import handle_record
from tests.dispatcher.outbound import make_conversation, make_integration, queue_message

FAST = RetryPolicy(max_attempts=4, initial_s=0.05, max_s=0.2, max_hint_s=10.0)


@pytest.fixture(scope="session")
async def publisher(kafka_settings: KafkaSettings) -> AsyncIterator[Publisher]:
    async with Publisher(kafka_settings) as publisher:
        yield publisher


@pytest.fixture(scope="session")
async def s3_client(s3_settings: S3Settings) -> AsyncIterator[Any]:
    async with get_session().create_client(
        "s3",
        endpoint_url=s3_settings.endpoint,
        region_name=s3_settings.region,
        aws_access_key_id=s3_settings.access_key.get_secret_value(),
        aws_secret_access_key=s3_settings.secret_key.get_secret_value(),
    ) as client:
        yield client


def registry_client(
    provider: Any, credentials: Any, http: httpx.AsyncClient, *, base_url: str | None = None
) -> Any:
    from providers.registry import client

    return client(provider, credentials, http, base_url=base_url)


def build_deps(
    pool: asyncpg.Pool,
    vault: Vault,
    http: httpx.AsyncClient,
    publisher: Publisher,
    s3_client: Any,
    bucket: str,
    *,
    policy: RetryPolicy = FAST,
    concurrency: int = 4,
) -> Deps:
    return Deps(
        pool=pool,
        vault=vault,
        http=http,
        publisher=publisher,
        calls=ProviderCalls(policy, Buckets(), concurrency),
        media=MediaLinks(s3_client, bucket=bucket, ttl_s=600),
        client_for=registry_client,
        group_id="dispatcher-test",
    )


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0), follow_redirects=False) as client:
        yield client


@pytest.fixture(scope="session")
async def deps(
    app_pool: asyncpg.Pool,
    vault: Vault,
    http: httpx.AsyncClient,
    publisher: Publisher,
    s3_client: Any,
    s3_settings: S3Settings,
) -> Deps:
    # Four slots: few enough that a design where conversations waiting on their number's
    # bucket held a slot would starve other tenants (test_one_tenants_burst_...).
    return build_deps(app_pool, vault, http, publisher, s3_client, s3_settings.bucket)


class Dispatcher:
    """The dispatcher's consumer running in this process for the whole session, handling the
    records of the tenants tests hand it (the outbound topic is shared by every test)."""

    def __init__(self, deps: Deps, kafka_settings: KafkaSettings) -> None:
        self.deps = deps
        self.tenants: set[UUID] = set()

        async def ours(received: Received) -> None:
            if received.event.tenant_id in self.tenants:
                await handle_record(deps, received)

        self.consumer = LaneConsumer(
            kafka_settings,
            topics.OUTBOUND,
            ours,
            deps.publisher,
            LaneOptions(group_id=f"dispatcher-test-{uuid4().hex[:8]}", poll_timeout_ms=50),
        )

    async def run(
        self,
        events: Sequence[Any],
        tenants: Collection[UUID],
        *,
        done: Callable[[], Any] | None = None,
        timeout_s: float = 60,
    ) -> None:
        """Publish ``events`` and wait until none of their messages is queued (and ``done``,
        if given, holds)."""
        self.tenants.update(tenants)
        ids = [e.message_id for e in events if isinstance(e, SendRequested)]

        async def finished() -> bool:
            for tenant in tenants:
                if not await settled(self.deps.pool, tenant, ids):
                    return False
            return done is None or bool(await done())

        await publish(self.deps.publisher, events)
        await wait_until(finished, timeout_s=timeout_s)


@pytest.fixture(scope="session")
async def dispatcher(deps: Deps, kafka_settings: KafkaSettings) -> AsyncIterator[Dispatcher]:
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


async def read_topic(
    kafka_settings: KafkaSettings,
    topic: str,
    match: Callable[[Any], bool],
    want: int,
    timeout_s: float = 20.0,
) -> list[Any]:
    """Events of ``topic`` (from the start) for which ``match`` holds, once ``want`` arrived."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_settings.bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    found: list[Any] = []
    try:
        async with asyncio.timeout(timeout_s):
            while len(found) < want:
                for records in (await consumer.getmany(timeout_ms=300)).values():
                    for record in records:
                        try:
                            event = decode(topic, record.value)
                        except ValueError:
                            continue
                        if match(event):
                            found.append(event)
    finally:
        await consumer.stop()
    return found


async def wait_until(check: Callable[[], Any], timeout_s: float = 30.0) -> None:
    """Poll the async ``check`` until it returns truthy (an outcome, not a speed limit)."""
    async with asyncio.timeout(timeout_s):
        while True:
            if await check():
                return
            await asyncio.sleep(0.1)


# ---------------------------------------------------------------------------------------------
# The provider simulator and integrations wired to it


@dataclass(frozen=True)
class Sim:
    base_url: str
    control: Any  # simulator.control.SimControl


@pytest.fixture(scope="session")
async def sim() -> AsyncIterator[Sim]:
    from simulator.control import SimControl
    from simulator.server import running

    with running() as server:
        control = SimControl(server.base_url)
        try:
            yield Sim(server.base_url, control)
        finally:
            await control.aclose()


@dataclass(frozen=True)
class Wired:
    """A tenant's integration registered at the simulator, and one conversation in it."""

    tenant_id: UUID
    provider: Provider
    account: str
    integration_id: UUID
    conversation_id: UUID
    phone: str


def credentials_for(provider: Provider, account: str, token: str) -> dict[str, str]:
    if provider is Provider.META:
        return {"access_token": token, "phone_number_id": account}
    if provider is Provider.EVOLUTION:
        return {"instance": account, "api_key": token}
    return {"instance_id": account, "token": token, "client_token": f"ct-{token}"}


@pytest.fixture
async def wire(
    make_tenant: Any, app_pool: asyncpg.Pool, vault: Vault, sim: Sim
) -> Callable[..., Any]:
    async def wire(
        provider: Provider, *, tenant_id: UUID | None = None, rate_limit_per_s: float | None = None
    ) -> Wired:
        tenant = tenant_id or await make_tenant()
        account = f"{provider.value}-{uuid4().hex[:10]}"
        token = secrets.token_urlsafe(16)
        await sim.control.register(
            provider,
            account,
            access_token=token,
            client_token=f"ct-{token}" if provider is Provider.ZAPI else None,
            statuses=False,
        )
        integration = await make_integration(
            app_pool,
            vault,
            tenant,
            provider=provider,
            credentials=credentials_for(provider, account, token),
            api_base_url=sim.base_url,
            rate_limit_per_s=rate_limit_per_s,
            external_account_id=account,
        )
        phone = f"55119{secrets.randbelow(10**8):08d}"
        conversation = await make_conversation(app_pool, tenant, integration, phone)
        return Wired(tenant, provider, account, integration, conversation, phone)

    return wire


async def new_conversation(pool: asyncpg.Pool, wired: Wired) -> Wired:
    phone = f"55119{secrets.randbelow(10**8):08d}"
    conversation = await make_conversation(pool, wired.tenant_id, wired.integration_id, phone)
    return Wired(
        wired.tenant_id, wired.provider, wired.account, wired.integration_id, conversation, phone
    )


async def queue(pool: asyncpg.Pool, wired: Wired, content: Any, **kw: Any) -> SendRequested:
    return await queue_message(
        pool,
        tenant_id=wired.tenant_id,
        conversation_id=wired.conversation_id,
        integration_id=wired.integration_id,
        provider=wired.provider,
        to=wired.phone,
        content=content,
        **kw,
    )


async def publish(publisher: Publisher, events: Sequence[Any]) -> None:
    """Publish as the gateway does, keyed by conversation (tenant + integration + chat)."""
    await publisher.publish_many([Outgoing(topics.OUTBOUND, _key(e), e) for e in events])


def _key(event: Any) -> str:
    chat = event.to if isinstance(event, SendRequested) else event.chat_id
    return outbound_key(event.tenant_id, event.integration_id, chat)


async def settled(pool: asyncpg.Pool, tenant_id: UUID, ids: Collection[UUID]) -> bool:
    """True once none of ``ids`` is still queued."""
    async with tenant_tx(pool, tenant_id) as conn:
        queued = await conn.fetchval(
            "SELECT count(*) FROM messages WHERE id = ANY($1::uuid[]) AND status = 'queued'",
            list(ids),
        )
    return bool(queued == 0)
