"""A database that hangs or refuses for 30 s loses nothing: ingest-api needs it only to route a
webhook, so webhooks of integrations already seen are still accepted (200, into Kafka) and a
never-seen route gets a 503 with Retry-After (never a 500); ingest-worker waits the outage out
(no dead letter) and then stores every accepted message once.

Both processes reach the database through a proxy that fails on demand
(tests/faultproxy.py): the session's Postgres, which other tests use, is never touched."""

import asyncio
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from pydantic import SecretStr

from config.shared import DatabaseSettings, KafkaSettings
from contracts import Provider, topics
from credentials import Vault
from devstack.process import free_port
from ingest import worker
from ingest.settings import IngestSettings
from providers.meta.verify import SIGNATURE_HEADER, sign
from simulator import webhooks
from tests.faultproxy import FaultProxy
from tests.ingest.api_fixtures import api_settings, serving
from tests.ingest.conftest import create_integration, eventually, fetch

# Two 30-second outages plus the worker catching up: longer than the suite's default limit.
pytestmark = pytest.mark.timeout(360)

OUTAGE_S = 30.0
WEBHOOKS_PER_OUTAGE = 1000


def _through(db: DatabaseSettings, proxy: FaultProxy) -> DatabaseSettings:
    url = urlsplit(db.app_database_url.get_secret_value())
    netloc = f"{url.netloc.rsplit('@', 1)[0]}@127.0.0.1:{proxy.port}"
    return DatabaseSettings(app_database_url=SecretStr(urlunsplit(url._replace(netloc=netloc))))


async def test_webhooks_are_accepted_while_the_database_hangs_or_refuses(
    db_settings: DatabaseSettings,
    kafka_settings: KafkaSettings,
    vault: Vault,
    make_tenant: Any,
    owner_conn: asyncpg.Connection,
    app_pool: asyncpg.Pool,
) -> None:
    tenant_id = await make_tenant("Database down")
    integ = await create_integration(
        owner_conn, vault, tenant_id, "meta", f"pn-{uuid4().hex[:10]}", {"app_secret": "s3cret"}
    )
    real = urlsplit(db_settings.app_database_url.get_secret_value())
    proxy = FaultProxy(real.hostname or "127.0.0.1", real.port or 5432)
    await proxy.start()
    stop_worker = asyncio.Event()
    worker_settings = IngestSettings(OPS_PORT=free_port(), reconcile_interval_s=0.5)  # type: ignore[call-arg]
    worker_task = asyncio.create_task(
        worker.run(worker_settings, _through(db_settings, proxy), kafka_settings, stop_worker)
    )
    sent = 0
    try:
        async with (
            serving(
                api_settings(route_cache_ttl_s=0.5),
                _through(db_settings, proxy),
                kafka_settings,
                vault,
            ) as api,
            httpx.AsyncClient(timeout=30) as http,
        ):
            url = f"{api.url}/webhooks/meta/{integ.webhook_key}"

            async def post(n: int) -> int:
                _, body = webhooks.inbound(
                    Provider.META,
                    integ.account,
                    webhooks.Customer(f"55119{n % 50:08d}"),
                    webhooks.InboundSpec(text=f"message {n}", message_id=f"wamid.db-down-{n}"),
                    "http://sim",
                )
                answer = await http.post(
                    url, content=body, headers={SIGNATURE_HEADER: sign(body, "s3cret")}
                )
                return answer.status_code

            async def flow(first: int) -> list[int]:
                """WEBHOOKS_PER_OUTAGE webhooks spread over OUTAGE_S, their answers."""
                tasks = []
                for i in range(WEBHOOKS_PER_OUTAGE):
                    tasks.append(asyncio.create_task(post(first + i)))
                    await asyncio.sleep(OUTAGE_S / WEBHOOKS_PER_OUTAGE)
                return list(await asyncio.gather(*tasks))

            assert await post(0) == 200  # the route is seen once while the database is up
            sent = 1
            for fault in (proxy.hang, proxy.refuse):
                await fault()
                never_seen = await http.post(
                    f"{api.url}/webhooks/meta/{uuid4().hex}", content=b"{}"
                )
                assert never_seen.status_code == 503, never_seen.text
                assert never_seen.headers["retry-after"].isdigit()
                answers = await flow(sent)
                await proxy.restore()
                assert sorted(set(answers)) == [200], {c: answers.count(c) for c in set(answers)}
                sent += len(answers)
        rows = await eventually(
            lambda: fetch(app_pool, tenant_id, "SELECT provider_message_id FROM messages"),
            lambda r: len(r) >= sent,
            timeout_s=120,
        )
    finally:
        stop_worker.set()
        await asyncio.wait_for(worker_task, 60)
        await proxy.stop()
    ids = [r["provider_message_id"] for r in rows]
    assert len(ids) == len(set(ids)) == sent
    assert not await _dead_lettered(kafka_settings, b"db-down-")


async def _dead_lettered(settings: KafkaSettings, marker: bytes) -> bool:
    consumer = AIOKafkaConsumer(
        topics.DEADLETTER,
        bootstrap_servers=settings.bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=3000, max_records=100_000)
        return any(marker in r.value for records in batches.values() for r in records)
    finally:
        await consumer.stop()
