"""Issue #17 item 1, the send side: the dispatcher's provider client is the guarded one
(``providers.http.create_client``), so an integration whose base URL points at an internal
listener (saved before base URLs were checked, or written straight into the table) fails its
message with a reason and the listener receives nothing, while the allow-listed simulator is
still reached."""

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from config.shared import KafkaSettings, S3Settings
from contracts import Provider
from contracts.outbound import OutboundText
from credentials import Vault
from providers.egress import EgressPolicy
from providers.http import create_client
from tests.dispatcher.conftest import Dispatcher, Sim, build_deps, queue_message
from tests.dispatcher.outbound import make_conversation, make_integration, message_row
from tests.providers.listener import listening


@pytest.fixture
async def guarded_dispatcher(
    app_pool: asyncpg.Pool,
    vault: Vault,
    publisher: Any,
    s3_client: Any,
    s3_settings: S3Settings,
    kafka_settings: KafkaSettings,
    sim: Sim,
) -> AsyncIterator[Dispatcher]:
    # What the dispatcher process builds from PROVIDER_EGRESS=loopback, PROVIDER_ALLOW_HTTP and
    # PROVIDER_EGRESS_ALLOW naming the simulator.
    async with create_client(EgressPolicy.reaching(sim.base_url), connect_s=2) as http:
        deps = build_deps(app_pool, vault, http, publisher, s3_client, s3_settings.bucket)
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


async def test_a_send_never_reaches_an_internal_listener(
    guarded_dispatcher: Dispatcher,
    sim: Sim,
    app_pool: asyncpg.Pool,
    vault: Vault,
    make_tenant: Any,
) -> None:
    tenant = await make_tenant()
    async with listening() as internal:
        token = secrets.token_urlsafe(12)
        inside = await make_integration(
            app_pool,
            vault,
            tenant,
            provider=Provider.ZAPI,
            credentials={"instance_id": "i-1", "token": token, "client_token": "c"},
            api_base_url=f"{internal.url}/#",  # '#' cuts the appended path
        )
        account = f"zapi-{secrets.token_hex(5)}"
        await sim.control.register(
            Provider.ZAPI, account, access_token=token, client_token="c", statuses=False
        )
        allowed = await make_integration(
            app_pool,
            vault,
            tenant,
            provider=Provider.ZAPI,
            credentials={"instance_id": account, "token": token, "client_token": "c"},
            api_base_url=sim.base_url,
            external_account_id=account,
        )
        requests = []
        for integration in (inside, allowed):
            conversation = await make_conversation(app_pool, tenant, integration, "5511999990000")
            requests.append(
                await queue_message(
                    app_pool,
                    tenant_id=tenant,
                    conversation_id=conversation,
                    integration_id=integration,
                    provider=Provider.ZAPI,
                    to="5511999990000",
                    content=OutboundText(body="hello"),
                )
            )
        await guarded_dispatcher.run(requests, [tenant])
        refused = await message_row(app_pool, tenant, requests[0].message_id)
        assert refused["status"] == "failed"
        assert "non-public address" in refused["error_reason"]
        sent = await message_row(app_pool, tenant, requests[1].message_id)
        assert sent["status"] == "sent"
    assert internal.accepted == 0
