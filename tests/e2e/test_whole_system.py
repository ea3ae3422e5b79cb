"""The product end to end, all real processes: customers write through each provider, agents see
it live, media is kept, replies go out and their statuses come back."""

import hashlib
import itertools
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest

from contracts import Provider
from credentials import Vault
from devstack.stack import Endpoints
from simulator.control import SimControl
from tests.e2e.agent import AgentSocket, Frame, rest
from tests.e2e.conftest import System, wired_tenant


def _by_type(messages: list[Frame]) -> dict[str, Frame]:
    """The newest snapshot of each message, keyed by its type."""
    out: dict[str, Frame] = {}
    for m in messages:
        out[m["type"]] = m
    return out


async def _media_ref(app_pool: asyncpg.Pool, tenant_id: UUID, message_id: str) -> str:
    from db.tenant import tenant_tx

    async with tenant_tx(app_pool, tenant_id) as conn:
        ref: str = await conn.fetchval(
            "SELECT media_provider_ref FROM messages WHERE id = $1", UUID(message_id)
        )
    return ref


@pytest.mark.parametrize("provider", list(Provider))
async def test_customer_messages_reach_the_agent_live_with_media_kept(
    provider: Provider,
    system: System,
    stack: Endpoints,
    vault: Vault,
    app_pool: asyncpg.Pool,
    make_tenant,  # type: ignore[no-untyped-def]
) -> None:
    tenant_id, wired = await wired_tenant(make_tenant, stack, vault, system)
    account = wired[provider].account_id
    token = system.token(tenant_id)
    phone = f"55119{uuid4().int % 10**8:08d}"
    async with (
        AgentSocket(system.urls["gateway"], token) as agent,
        SimControl(system.urls["simulator"]) as sim,
    ):
        start = agent.ready["cursor"]
        await agent.subscribe("inbox", start)
        for kind in ("text", "image", "document"):
            answer = await sim.inbound(provider, account, kind, phone=phone)
            assert answer["status"] == 200, answer
        await agent.wait_for(
            lambda seen: any(
                c["unread_count"] >= 1
                for c in [e["conversation"] for e in seen if e["type"] == "conversation.updated"]
            )
        )
        conversation_id = str(agent.conversations()[-1]["id"])
        await agent.subscribe(f"conversation:{conversation_id}", start)

        def everything_arrived(seen: list[Frame]) -> bool:
            latest = _by_type(agent.messages(conversation_id))
            return (
                {"text", "image", "document"} <= latest.keys()
                and latest["image"]["media"]["state"] == "stored"
                and latest["document"]["media"]["state"] == "stored"
            )

        await agent.wait_for(everything_arrived)

    latest = _by_type(agent.messages(conversation_id))
    assert latest["text"]["direction"] == "inbound" and latest["text"]["text"]
    image = latest["image"]
    assert image["media"]["mime"] == "image/jpeg"
    media_id = (await _media_ref(app_pool, tenant_id, image["id"])).rstrip("/").rsplit("/", 1)[-1]
    async with rest(system.urls["media-api"], token) as api:
        response = await api.get(f"/v1/media/{image['id']}", follow_redirects=True)
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == SimControl.expected_sha256(media_id)
    assert response.headers["content-type"].startswith("image/jpeg")


@pytest.mark.parametrize("provider", list(Provider))
async def test_an_agent_reply_goes_out_and_its_statuses_come_back_in_order(
    provider: Provider,
    system: System,
    stack: Endpoints,
    vault: Vault,
    make_tenant,  # type: ignore[no-untyped-def]
) -> None:
    tenant_id, wired = await wired_tenant(make_tenant, stack, vault, system)
    account = wired[provider].account_id
    token = system.token(tenant_id)
    async with (
        AgentSocket(system.urls["gateway"], token) as agent,
        SimControl(system.urls["simulator"]) as sim,
    ):
        start = agent.ready["cursor"]
        await agent.subscribe("inbox", start)
        await sim.inbound(provider, account, "text", phone=f"55119{uuid4().int % 10**8:08d}")
        await agent.wait_for(lambda seen: bool(agent.conversations()))
        conversation_id = str(agent.conversations()[-1]["id"])
        await agent.subscribe(f"conversation:{conversation_id}", start)
        async with rest(system.urls["gateway"], token) as api:
            response = await api.post(
                f"/v1/conversations/{conversation_id}/messages",
                json={
                    "client_message_id": str(uuid4()),
                    "content": {"kind": "text", "body": "Olá! Como posso ajudar?"},
                },
            )
        assert response.status_code == 202, response.text
        reply_id = response.json()["id"]

        def statuses() -> list[str]:
            return [m["status"] for m in agent.messages(conversation_id) if m["id"] == reply_id]

        await agent.wait_for(lambda seen: "read" in statuses())
        sent = await sim.sends(provider=provider, account_id=account)

    assert any("Olá! Como posso ajudar?" in str(s["body"]) for s in sent)
    order = ["queued", "sent", "delivered", "read"]
    seen = statuses()
    firsts = sorted(set(seen), key=seen.index)
    assert firsts == order, seen
    assert all(order.index(a) <= order.index(b) for a, b in itertools.pairwise(seen))


async def test_two_tenants_at_once_see_only_their_own_traffic(
    system: System,
    stack: Endpoints,
    vault: Vault,
    make_tenant,  # type: ignore[no-untyped-def]
) -> None:
    a_tenant, a_wired = await wired_tenant(make_tenant, stack, vault, system)
    b_tenant, b_wired = await wired_tenant(make_tenant, stack, vault, system)
    a_token, b_token = system.token(a_tenant), system.token(b_tenant)
    async with (
        AgentSocket(system.urls["gateway"], a_token) as a,
        AgentSocket(system.urls["gateway"], b_token) as b,
        SimControl(system.urls["simulator"]) as sim,
    ):
        await a.subscribe("inbox", a.ready["cursor"])
        await b.subscribe("inbox", b.ready["cursor"])
        for provider in Provider:
            await sim.inbound(provider, a_wired[provider].account_id, "text", text="para A")
            await sim.inbound(provider, b_wired[provider].account_id, "text", text="para B")
        await a.wait_for(lambda seen: len({c["id"] for c in a.conversations()}) >= 3)
        await b.wait_for(lambda seen: len({c["id"] for c in b.conversations()}) >= 3)
    a_ids = {c["id"] for c in a.conversations()}
    b_ids = {c["id"] for c in b.conversations()}
    assert a_ids.isdisjoint(b_ids)
    assert {c["integration_id"] for c in a.conversations()} == {
        str(w.integration_id) for w in a_wired.values()
    }
    assert {c["integration_id"] for c in b.conversations()} == {
        str(w.integration_id) for w in b_wired.values()
    }
    async with rest(system.urls["gateway"], b_token) as api:
        for conversation_id in a_ids:
            response = await api.get(f"/v1/conversations/{conversation_id}")
            assert response.status_code == 404
    async with httpx.AsyncClient(
        base_url=system.urls["gateway"], timeout=10, headers={"Authorization": f"Bearer {a_token}"}
    ) as api:
        page = (await api.get("/v1/conversations", params={"limit": 200})).json()
    assert {c["id"] for c in page["items"]} == a_ids
