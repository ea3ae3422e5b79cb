"""With the broker down ingest-api answers 503 (the provider retries; nothing is acknowledged
that is not in the broker), and accepts again once the broker is back. Private broker: the
session's is never stopped."""

import asyncio
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer

from bus.admin import ensure_topics
from config.shared import DatabaseSettings, KafkaSettings
from contracts import Provider, topics
from credentials import Vault
from devstack.kafka import TansuBroker
from providers.meta.verify import SIGNATURE_HEADER, sign
from simulator import webhooks
from tests.ingest.api_fixtures import api_settings, serving
from tests.ingest.conftest import create_integration, eventually


async def _start(broker: TansuBroker) -> KafkaSettings:
    await asyncio.to_thread(broker.start)
    settings = KafkaSettings(bootstrap=broker.bootstrap, request_timeout_ms=3000)
    await ensure_topics(settings)
    return settings


async def _in_topic(settings: KafkaSettings, marker: bytes) -> bool:
    consumer = AIOKafkaConsumer(
        topics.INBOUND, bootstrap_servers=settings.bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=2000, max_records=1000)
        return any(marker in r.value for records in batches.values() for r in records)
    finally:
        await consumer.stop()


async def test_broker_down_means_503_and_back_means_200(
    tmp_path: Path,
    db_settings: DatabaseSettings,
    vault: Vault,
    make_tenant: Any,
    owner_conn: asyncpg.Connection,
) -> None:
    tenant_id = await make_tenant("Broker down")
    integ = await create_integration(
        owner_conn, vault, tenant_id, "meta", "pn-broker-down", {"app_secret": "s3cret"}
    )
    broker = TansuBroker(tmp_path)
    kafka = await _start(broker)
    try:
        settings = api_settings(publish_timeout_s=2.0)
        async with (
            serving(settings, db_settings, kafka, vault) as api,
            httpx.AsyncClient(timeout=15) as http,
        ):
            url = f"{api.url}/webhooks/meta/{integ.webhook_key}"

            async def post(text: str) -> int:
                _, body = webhooks.inbound(
                    Provider.META,
                    integ.account,
                    webhooks.Customer("5511900000000"),
                    webhooks.InboundSpec(text=text),
                    "http://sim",
                )
                r = await http.post(
                    url, content=body, headers={SIGNATURE_HEADER: sign(body, "s3cret")}
                )
                return r.status_code

            assert await post("before") == 200
            await asyncio.to_thread(broker.stop)
            assert await post("while down") == 503
            assert (await http.get(f"{api.ops_url}/readyz")).status_code == 503

            broker = TansuBroker(tmp_path, port=broker.port)
            await _start(broker)
            answer = await eventually(lambda: post("after"), lambda c: c == 200, timeout_s=45)
            assert answer == 200
            assert (await http.get(f"{api.ops_url}/readyz")).status_code == 200
        assert await _in_topic(kafka, b"after")
    finally:
        await asyncio.to_thread(broker.stop)
