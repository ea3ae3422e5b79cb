"""An agent's websocket sees a customer's edit and delete-for-everyone live (issue #19): the
provider simulator posts them to ingest-api, ingest-worker applies them, the gateway forwards
the ``message.updated`` snapshots to the subscribed conversation. In tests/ingest, not
tests/realtime: its ingest-worker must join the worker group before the rebalance test's
killed members (the embedded broker can hold a JoinGroup for minutes after those)."""

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from config.shared import DatabaseSettings, KafkaSettings
from contracts import Provider
from credentials import Vault
from simulator.control import SimControl
from simulator.server import RunningSimulator
from tests.ingest.api_fixtures import Served, api_settings, serving, wire
from tests.ingest.conftest import eventually, fetch
from tests.ingest.conftest import ingest_worker as ingest_worker  # the fixture, in this module
from tests.realtime.conftest import Gateway, connect, next_event, subscribe, token
from tests.realtime.conftest import gateway as gateway  # fixtures, for this module
from tests.realtime.conftest import provider_sim as provider_sim
from tests.realtime.conftest import second_sim as second_sim

pytestmark = pytest.mark.usefixtures("ingest_worker")


@pytest.fixture(scope="module")
async def served(
    db_settings: DatabaseSettings, kafka_settings: KafkaSettings, vault: Vault
) -> AsyncIterator[Served]:
    async with serving(api_settings(), db_settings, kafka_settings, vault) as running_api:
        yield running_api


async def test_the_agent_sees_the_edit_then_the_deletion(
    gateway: Gateway,
    provider_sim: RunningSimulator,
    served: Served,
    app_pool: asyncpg.Pool,
    owner_conn: asyncpg.Connection,
    vault: Vault,
    make_tenant: Any,
) -> None:
    tenant_id = await make_tenant()
    async with SimControl(provider_sim.base_url) as sim:
        wired = await wire(owner_conn, vault, sim, served.url, tenant_id, Provider.META)
        account = wired.integ.account
        first = await sim.inbound(Provider.META, account, "text", text="at 10 then")
        original = first["provider_message_id"]
        rows = await eventually(
            lambda: fetch(app_pool, tenant_id, "SELECT id, conversation_id FROM messages"),
            lambda r: len(r) == 1,
        )
        message_id, conversation_id = str(rows[0]["id"]), rows[0]["conversation_id"]
        ws, _ = await connect(gateway, token(tenant_id))
        try:
            subscribed = await subscribe(ws, f"conversation:{conversation_id}")
            assert subscribed["type"] == "subscribed"
            edit = await sim.inbound(
                Provider.META, account, "edit", reply_to=original, text="at 11 then"
            )
            assert edit["status"] == 200
            edited = await _update_of(ws, message_id)
            assert edited["text"] == "at 11 then" and edited["edited_at"]
            assert not edited["deleted_at"]
            revoke = await sim.inbound(Provider.META, account, "revoke", reply_to=original)
            assert revoke["status"] == 200
            deleted = await _update_of(ws, message_id)
            assert deleted["deleted_at"] and deleted["text"] is None
        finally:
            await ws.close()


async def _update_of(ws: Any, message_id: str) -> dict[str, Any]:
    """The next ``message.updated`` of this message (other events of the channel skipped)."""
    while True:
        event = (await next_event(ws))["event"]
        if event["type"] == "message.updated" and event["message"]["id"] == message_id:
            message: dict[str, Any] = event["message"]
            return message
