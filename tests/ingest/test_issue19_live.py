"""What real traffic carries beyond customers' everyday messages reaches an agent's websocket
(issue #19): messages the business typed on its own phone, received templates, orders,
WhatsApp's note of a customer's new number, the business app's address book, group chats.
Each is posted by the provider simulator to ingest-api, applied by ingest-worker and read back
from the gateway. In tests/ingest beside test_changes_live.py, for the same reason (its
ingest-worker joins the group before the rebalance test's killed members)."""

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from config.shared import DatabaseSettings, KafkaSettings
from contracts import Provider
from credentials import Vault
from simulator.business import group_of
from simulator.control import SimControl
from simulator.server import RunningSimulator
from simulator.webhooks import Customer
from tests.ingest.api_fixtures import Served, Wired, api_settings, serving, wire
from tests.ingest.conftest import eventually, fetch
from tests.ingest.conftest import ingest_worker as ingest_worker  # the fixture, in this module
from tests.realtime.conftest import Gateway, connect, next_event, subscribe, token
from tests.realtime.conftest import gateway as gateway  # fixtures, for this module
from tests.realtime.conftest import provider_sim as provider_sim
from tests.realtime.conftest import second_sim as second_sim

pytestmark = pytest.mark.usefixtures("ingest_worker")

CUSTOMER = "5511987654321"


@pytest.fixture(scope="module")
async def served(
    db_settings: DatabaseSettings, kafka_settings: KafkaSettings, vault: Vault
) -> AsyncIterator[Served]:
    async with serving(api_settings(), db_settings, kafka_settings, vault) as running_api:
        yield running_api


class Live:
    """One tenant's integration wired to the simulator, and an agent's websocket."""

    def __init__(self, sim: SimControl, wired: Wired, pool: asyncpg.Pool, ws: Any) -> None:
        self.sim, self.wired, self.pool, self.ws = sim, wired, pool, ws

    @property
    def tenant_id(self) -> UUID:
        return self.wired.integ.tenant_id

    async def post(self, kind: str, **fields: Any) -> dict[str, Any]:
        integ = self.wired.integ
        result = await self.sim.inbound(Provider(integ.provider), integ.account, kind, **fields)
        assert result["status"] == 200, result
        return result

    async def rows(self, sql: str, until: Callable[[list[Any]], bool]) -> list[Any]:
        return await eventually(lambda: fetch(self.pool, self.tenant_id, sql), until)

    async def conversation(self) -> UUID:
        """The customer writes first; the agent follows that conversation from its start."""
        await self.post("text", text="oi", phone=CUSTOMER, name="Maria Profile")
        rows = await self.rows("SELECT id FROM conversations", lambda r: len(r) == 1)
        subscribed = await subscribe(self.ws, f"conversation:{rows[0]['id']}", after=0)
        assert subscribed["type"] == "subscribed"
        return UUID(str(rows[0]["id"]))

    async def event(self, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The next event the websocket delivers that ``wanted`` accepts (others skipped)."""
        async with asyncio.timeout(30):
            while True:
                event: dict[str, Any] = (await next_event(self.ws))["event"]
                if wanted(event):
                    return event


@pytest.fixture
async def live(
    request: pytest.FixtureRequest,
    gateway: Gateway,
    provider_sim: RunningSimulator,
    served: Served,
    app_pool: asyncpg.Pool,
    owner_conn: asyncpg.Connection,
    vault: Vault,
    make_tenant: Any,
) -> AsyncIterator[Live]:
    provider = Provider(getattr(request, "param", "meta"))
    tenant_id = await make_tenant()
    async with SimControl(provider_sim.base_url) as sim:
        wired = await wire(owner_conn, vault, sim, served.url, tenant_id, provider)
        ws, _ = await connect(gateway, token(tenant_id))
        try:
            yield Live(sim, wired, app_pool, ws)
        finally:
            await ws.close()


def _created(kind: str) -> Callable[[dict[str, Any]], bool]:
    return lambda e: e["type"] == "message.created" and e["message"]["type"] == kind


@pytest.mark.parametrize("live", ["meta", "evolution", "zapi"], indirect=True)
async def test_a_message_typed_on_the_business_phone_shows_as_sent_from_it(live: Live) -> None:
    await live.conversation()
    await live.post("phone_echo", text="typed on the phone", phone=CUSTOMER)
    message = (await live.event(_created("text")))["message"]
    while message["direction"] != "outbound":  # the customer's "oi" comes first
        message = (await live.event(_created("text")))["message"]
    assert message["text"] == "typed on the phone" and message["sent_from_phone"] is True
    assert message["status"] == "sent"


async def test_an_app_echo_of_our_own_send_adds_no_second_message(live: Live) -> None:
    conversation_id = await live.conversation()
    wamid = "wamid.HBgNOURSENTBYTHEDISPATCHER00=="
    await fetch(
        live.pool,
        live.tenant_id,
        "INSERT INTO messages (tenant_id, conversation_id, integration_id, direction, type, "
        "status, client_message_id, provider_message_id, text) "
        "VALUES ($1, $2, $3, 'outbound', 'text', 'sent', 'c-ours', $4, 'ours') RETURNING id",
        live.tenant_id,
        conversation_id,
        live.wired.integ.integration_id,
        wamid,
    )
    await live.post("phone_echo", text="ours", phone=CUSTOMER, message_id=wamid)
    await live.post("text", text="after the echo", phone=CUSTOMER)  # applied after it
    await live.rows("SELECT id FROM messages WHERE text = 'after the echo'", lambda r: len(r) == 1)
    outbound = await fetch(
        live.pool,
        live.tenant_id,
        "SELECT sent_from_phone FROM messages WHERE direction = 'outbound'",
    )
    assert [r["sent_from_phone"] for r in outbound] == [False]


@pytest.mark.parametrize("live", ["evolution", "zapi"], indirect=True)
async def test_a_received_template_shows_its_text(live: Live) -> None:
    await live.conversation()
    await live.post("template", text="Seu pedido saiu", phone=CUSTOMER)
    message = (await live.event(_created("template")))["message"]
    assert message["text"] == "Sim Store\nSeu pedido saiu\n[OK]"
    assert message["direction"] == "inbound"


@pytest.mark.parametrize("live", ["meta", "zapi"], indirect=True)
async def test_an_order_shows_its_cart(live: Live) -> None:
    await live.conversation()
    await live.post("order", text="para presente", phone=CUSTOMER)
    message = (await live.event(_created("order")))["message"]
    assert message["order"]["items"][0]["product_retailer_id"] == "sku-1"
    if Provider(live.wired.integ.provider) is Provider.META:
        assert message["text"] == "Order: 1 item (2 units), 20.00 BRL\npara presente"
        assert message["order"]["catalog_id"] == "sim-catalog"
    else:  # Z-API does not say in what unit its prices are: none is shown
        assert message["text"] == "Order: 1 item (2 units)\npara presente"


async def test_a_new_number_moves_the_contact_and_keeps_the_conversation(live: Live) -> None:
    conversation_id = await live.conversation()
    new_number = "5511912345678"
    await live.post("system", text=new_number, phone=CUSTOMER)
    note = (await live.event(_created("system")))["message"]
    assert note["text"].endswith(f"to {new_number}") and note["direction"] == "inbound"
    moved = await live.event(
        lambda e: (
            e["type"] == "conversation.updated" and e["conversation"]["contact_phone"] == new_number
        )
    )
    assert moved["conversation"]["id"] == str(conversation_id)
    assert moved["conversation"]["unread_count"] == 1  # WhatsApp's note is nobody's message
    await live.post("text", text="from my new number", phone=new_number)
    message = (await live.event(_created("text")))["message"]
    while message["text"] != "from my new number":
        message = (await live.event(_created("text")))["message"]
    assert message["conversation_id"] == str(conversation_id)


async def test_the_business_app_names_the_contact(live: Live) -> None:
    conversation_id = await live.conversation()
    await live.post("contact_sync", phone=CUSTOMER, name="Maria (loja)")
    named = await live.event(
        lambda e: (
            e["type"] == "conversation.updated"
            and e["conversation"]["contact_name"] == "Maria (loja)"
        )
    )
    assert named["conversation"]["id"] == str(conversation_id)
    # The customer's profile name no longer replaces it, nor does a removal from the app.
    await live.post("text", text="again", phone=CUSTOMER, name="Maria Profile")
    await live.post("contact_removed", phone=CUSTOMER)
    await live.post("text", text="and again", phone=CUSTOMER, name="Maria Profile")
    await live.rows("SELECT id FROM messages WHERE text = 'and again'", lambda r: len(r) == 1)
    contacts = await fetch(live.pool, live.tenant_id, "SELECT display_name FROM contacts")
    assert [c["display_name"] for c in contacts] == ["Maria (loja)"]


@pytest.mark.parametrize("live", ["meta", "evolution", "zapi"], indirect=True)
async def test_group_messages_follow_the_integrations_setting(
    live: Live, owner_conn: asyncpg.Connection
) -> None:
    await live.post("group", text="ignored by default", phone=CUSTOMER)
    await live.post("text", text="barrier", phone=CUSTOMER)
    await live.rows("SELECT id FROM messages", lambda r: len(r) == 1)
    await owner_conn.execute(
        "UPDATE integrations SET group_messages = 'store' WHERE id = $1",
        live.wired.integ.integration_id,
    )
    await asyncio.sleep(0.8)  # ingest-api's route cache (api_settings: 0.5 s)
    assert (await subscribe(live.ws, "inbox"))["type"] == "subscribed"
    await live.post("group", text="kept now", phone=CUSTOMER, name="Maria Profile")
    listed = await live.event(
        lambda e: (
            e["type"] == "conversation.updated"
            and e["conversation"]["last_message_preview"] == "kept now"
        )
    )
    group = await fetch(
        live.pool,
        live.tenant_id,
        "SELECT c.external_id, c.phone, m.sender_name FROM messages m "
        "JOIN conversations v ON v.id = m.conversation_id JOIN contacts c ON c.id = v.contact_id "
        "WHERE m.text = 'kept now'",
    )
    assert group[0]["external_id"].startswith(group_of(Customer(CUSTOMER)))
    assert group[0]["phone"] is None  # the group's contact is the group, not its writer
    assert group[0]["sender_name"] == "Maria Profile"
    assert listed["conversation"]["contact_phone"] is None
    texts = await fetch(live.pool, live.tenant_id, "SELECT text FROM messages ORDER BY text")
    assert [t["text"] for t in texts] == ["barrier", "kept now"]
