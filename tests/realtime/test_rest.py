"""The agents' REST API over HTTP against the in-process gateway, Postgres and the broker."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import asyncpg

from bus.publisher import Publisher
from config.shared import KafkaSettings
from contracts import topics
from contracts.outbound import MarkReadRequested, SendRequested
from credentials import Vault
from db.tenant import tenant_tx
from simulator.control import SimControl
from simulator.server import RunningSimulator
from tests.realtime.conftest import (
    Gateway,
    TopicTail,
    connect,
    next_event,
    subscribe,
    token,
)
from tests.realtime.world import inbound, make_world


def text(cid: str, body: str = "hi") -> dict:  # type: ignore[type-arg]
    return {"client_message_id": cid, "content": {"kind": "text", "body": body}}


def template(cid: str) -> dict:  # type: ignore[type-arg]
    return {"client_message_id": cid, "content": {"kind": "template", "name": "welcome"}}


async def test_same_client_message_id_three_times_is_one_message_and_one_send_request(
    gateway: Gateway,
    app_pool: asyncpg.Pool,
    vault: Vault,
    kafka_settings: KafkaSettings,
    make_tenant,
) -> None:  # type: ignore[no-untyped-def]
    w = await make_world(app_pool, vault, await make_tenant())
    path = f"/v1/conversations/{w.conversation_id}/messages"
    async with (
        TopicTail(kafka_settings, topics.OUTBOUND) as tail,
        gateway.http(token(w.tenant_id)) as c,
    ):
        answers = [await c.post(path, json=text("cmid-1", "olá")) for _ in range(3)]
        assert [a.status_code for a in answers] == [202, 202, 202]
        ids = {a.json()["id"] for a in answers}
        assert len(ids) == 1
        assert answers[0].json()["status"] == "queued"
        marker = (await c.post(path, json=text("cmid-2", "marker"))).json()["id"]

        seen = await tail.until(
            lambda e: isinstance(e, SendRequested) and str(e.message_id) == marker
        )
        sends = [e for e in seen if isinstance(e, SendRequested) and str(e.message_id) in ids]
        assert len(sends) == 1
        send = sends[0]
        assert send.to == w.chat_id and send.client_message_id == "cmid-1"
        assert send.content.kind == "text" and send.content.body == "olá"

        history = (await c.get(path)).json()["items"]
        assert [m["client_message_id"] for m in history].count("cmid-1") == 1


async def test_a_repeat_after_the_window_closed_returns_the_accepted_message(
    gateway: Gateway, app_pool: asyncpg.Pool, vault: Vault, make_tenant
) -> None:  # type: ignore[no-untyped-def]
    """A client retrying a send it never saw answered gets the message it already queued,
    even when the 24-hour window has closed since: the key is checked before the refusal."""
    w = await make_world(app_pool, vault, await make_tenant())
    path = f"/v1/conversations/{w.conversation_id}/messages"
    async with gateway.http(token(w.tenant_id)) as c:
        first = await c.post(path, json=text("kept-1", "olá"))
        assert first.status_code == 202
        async with tenant_tx(app_pool, w.tenant_id) as conn:
            await conn.execute(
                "UPDATE conversations SET last_inbound_at = now() - interval '30 hours' "
                "WHERE id = $1",
                w.conversation_id,
            )
        again = await c.post(path, json=text("kept-1", "olá"))
        assert again.status_code == 202
        assert again.json()["id"] == first.json()["id"]
        refused = await c.post(path, json=text("kept-2", "olá"))
        assert (refused.status_code, refused.json()["code"]) == (422, "window_closed")
        history = (await c.get(path)).json()["items"]
        assert [m["client_message_id"] for m in history] == ["kept-1"]


async def test_free_form_outside_the_24_hour_window_needs_a_template(
    gateway: Gateway, app_pool: asyncpg.Pool, vault: Vault, make_tenant
) -> None:  # type: ignore[no-untyped-def]
    w = await make_world(app_pool, vault, await make_tenant(), inbound_hours_ago=30)
    path = f"/v1/conversations/{w.conversation_id}/messages"
    async with gateway.http(token(w.tenant_id)) as c:
        refused = await c.post(path, json=text("late-1"))
        assert refused.status_code == 422
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "window_closed"
        assert "template" in refused.json()["detail"]
        assert (await c.post(path, json=template("late-2"))).status_code == 202
        # Nothing was stored for the refused one: the key is still free.
        assert (await c.get(path)).json()["items"][0]["client_message_id"] == "late-2"


async def test_another_tenants_ids_answer_404_exactly_like_missing_ones(
    gateway: Gateway, app_pool: asyncpg.Pool, vault: Vault, make_tenant
) -> None:  # type: ignore[no-untyped-def]
    a = await make_world(app_pool, vault, await make_tenant("A"))
    b_tenant = await make_tenant("B")
    async with gateway.http(token(b_tenant, "admin-1", "admin")) as b:
        for target in (a.conversation_id, uuid4()):
            base = f"/v1/conversations/{target}"
            answers = [
                await b.get(base),
                await b.patch(base, json={"status": "closed"}),
                await b.get(f"{base}/messages"),
                await b.post(f"{base}/messages", json=text(f"x-{uuid4()}")),
                await b.post(f"{base}/read"),
            ]
            assert [r.status_code for r in answers] == [404] * 5
            assert {r.json()["detail"] for r in answers} == {"no such conversation"}
        for target in (a.integration_id, uuid4()):
            r = await b.get(f"/v1/integrations/{target}")
            assert (r.status_code, r.json()["code"]) == (404, "not_found")
    async with gateway.http(token(a.tenant_id)) as owner:
        assert (await owner.get(f"/v1/conversations/{a.conversation_id}")).json()[
            "status"
        ] == "open"


async def test_inbox_pages_newest_activity_first_with_filters(
    gateway: Gateway, app_pool: asyncpg.Pool, vault: Vault, make_tenant
) -> None:  # type: ignore[no-untyped-def]
    tenant_id = await make_tenant()
    worlds = [await make_world(app_pool, vault, tenant_id) for _ in range(5)]
    now = datetime.now(UTC)
    async with tenant_tx(app_pool, tenant_id) as conn:
        for i, w in enumerate(worlds):
            await conn.execute(
                "UPDATE conversations SET last_message_at = $2, unread_count = $3 WHERE id = $1",
                w.conversation_id,
                now - timedelta(minutes=i),
                i % 2,
            )
    expected = [str(w.conversation_id) for w in worlds]
    async with gateway.http(token(tenant_id)) as c:
        got, cursor = [], None
        while True:
            params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
            page = (await c.get("/v1/conversations", params=params)).json()
            got += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert got == expected
        unread = (await c.get("/v1/conversations", params={"unread": "true"})).json()["items"]
        assert [i["id"] for i in unread] == [expected[1], expected[3]]
        bad = await c.get("/v1/conversations", params={"cursor": "garbage"})
        assert (bad.status_code, bad.json()["code"]) == (422, "invalid_cursor")
        too_many = await c.get("/v1/conversations", params={"limit": 201})
        assert too_many.json()["code"] == "validation_failed"


async def test_history_pages_backwards_in_time(
    gateway: Gateway, app_pool: asyncpg.Pool, vault: Vault, publisher: Publisher, make_tenant
) -> None:  # type: ignore[no-untyped-def]
    w = await make_world(app_pool, vault, await make_tenant())
    for i in range(5):
        await inbound(app_pool, publisher, w, f"m{i}")
    async with gateway.http(token(w.tenant_id)) as c:
        got, before = [], None
        while True:
            params = {"limit": 2} | ({"before": before} if before else {})
            page = (
                await c.get(f"/v1/conversations/{w.conversation_id}/messages", params=params)
            ).json()
            got += [m["text"] for m in page["items"]]
            before = page["next_before"]
            if before is None:
                break
    assert got == ["m4", "m3", "m2", "m1", "m0"]


async def test_patch_and_read_reach_the_inbox_and_ask_the_dispatcher_to_mark_read(
    gateway: Gateway,
    app_pool: asyncpg.Pool,
    vault: Vault,
    kafka_settings: KafkaSettings,
    make_tenant,
) -> None:  # type: ignore[no-untyped-def]
    w = await make_world(app_pool, vault, await make_tenant())
    ws, _ = await connect(gateway, token(w.tenant_id))
    await subscribe(ws, "inbox")
    async with (
        TopicTail(kafka_settings, topics.OUTBOUND) as tail,
        gateway.http(token(w.tenant_id)) as c,
    ):
        patched = await c.patch(
            f"/v1/conversations/{w.conversation_id}",
            json={"status": "closed", "assignee": "agent-1"},
        )
        assert patched.status_code == 200
        assert (patched.json()["status"], patched.json()["assignee"]) == ("closed", "agent-1")
        live = await next_event(ws)
        assert live["event"]["conversation"]["status"] == "closed"

        read = await c.post(f"/v1/conversations/{w.conversation_id}/read")
        assert read.json()["unread_count"] == 0
        assert (await next_event(ws))["event"]["conversation"]["unread_count"] == 0
        seen = await tail.until(
            lambda e: isinstance(e, MarkReadRequested) and e.conversation_id == w.conversation_id
        )
        assert seen[-1].chat_id == w.chat_id
        unassigned = await c.patch(
            f"/v1/conversations/{w.conversation_id}", json={"assignee": None}
        )
        assert unassigned.json()["assignee"] is None
        stranger = await c.patch(
            f"/v1/conversations/{w.conversation_id}", json={"assignee": "someone-elsewhere"}
        )
        assert (stranger.status_code, stranger.json()["code"]) == (422, "unknown_assignee")
    await ws.close()


async def test_start_a_conversation_with_a_template(
    gateway: Gateway, app_pool: asyncpg.Pool, vault: Vault, make_tenant
) -> None:  # type: ignore[no-untyped-def]
    w = await make_world(app_pool, vault, await make_tenant())
    async with gateway.http(token(w.tenant_id)) as c:
        body = {
            "integration_id": str(w.integration_id),
            "phone": "+5511987654321",
            "client_message_id": "start-1",
            "template": {"kind": "template", "name": "welcome", "body_params": ["Ana"]},
        }
        started = await c.post("/v1/conversations", json=body)
        assert started.status_code == 202
        assert started.json()["conversation"]["contact_phone"] == "5511987654321"
        assert started.json()["message"]["type"] == "template"
        again = await c.post("/v1/conversations", json=body)
        assert again.json()["message"]["id"] == started.json()["message"]["id"]
        free_form = await c.post(
            "/v1/conversations", json=body | {"template": {"kind": "text", "body": "x"}}
        )
        assert free_form.status_code == 422


async def test_media_must_come_from_the_tenants_own_uploads(
    gateway: Gateway, app_pool: asyncpg.Pool, vault: Vault, make_tenant
) -> None:  # type: ignore[no-untyped-def]
    w = await make_world(app_pool, vault, await make_tenant())
    path = f"/v1/conversations/{w.conversation_id}/messages"

    def media(cid: str, key: str) -> dict:  # type: ignore[type-arg]
        content = {"kind": "media", "media_type": "image", "media_key": key, "mime": "image/png"}
        return {"client_message_id": cid, "content": content}

    async with gateway.http(token(w.tenant_id)) as c:
        foreign = await c.post(path, json=media("m-1", f"{uuid4()}/x.png"))
        assert foreign.json()["code"] == "invalid_media_key"
        own = await c.post(path, json=media("m-2", f"{w.tenant_id}/x.png"))
        assert own.status_code == 202 and own.json()["media"]["mime"] == "image/png"


async def test_integrations_are_for_admins_and_never_return_credentials(
    gateway: Gateway, provider_sim: RunningSimulator, make_tenant
) -> None:  # type: ignore[no-untyped-def]
    tenant_id = await make_tenant()
    account = f"pn-{uuid4().hex[:10]}"
    async with SimControl(provider_sim.base_url) as control:
        await control.register("meta", account, access_token="very-secret")
    async with gateway.http(token(tenant_id)) as agent:
        assert (await agent.get("/v1/integrations")).json()["code"] == "forbidden"
    async with gateway.http(token(tenant_id, "admin-1", "admin")) as admin:
        body = {
            "provider": "meta",
            "external_account_id": account,
            "api_base_url": provider_sim.base_url,
            "credentials": {"access_token": "very-secret", "app_secret": "also-secret"},
        }
        created = await admin.post("/v1/integrations", json=body)
        assert created.status_code == 201
        out = created.json()
        assert out["webhook_url"].startswith("https://ingest.test/webhooks/meta/")
        assert out["verify_token"]
        assert (await admin.post("/v1/integrations", json=body)).json()[
            "code"
        ] == "integration_exists"
        listed = await admin.get("/v1/integrations")
        assert "very-secret" not in listed.text and "credentials" not in listed.text
        renamed = await admin.patch(f"/v1/integrations/{out['id']}", json={"display_name": "Sales"})
        assert renamed.json()["display_name"] == "Sales"
        assert out["group_messages"] == "ignore"  # groups are dropped unless asked for
        grouped = await admin.patch(
            f"/v1/integrations/{out['id']}", json={"group_messages": "store"}
        )
        assert grouped.json()["group_messages"] == "store"
        bad = await admin.patch(f"/v1/integrations/{out['id']}", json={"group_messages": "some"})
        assert bad.status_code in (400, 422)
        assert (await admin.delete(f"/v1/integrations/{out['id']}")).status_code == 204
        assert (await admin.get(f"/v1/integrations/{out['id']}")).status_code == 404


async def test_openapi_is_served(gateway: Gateway) -> None:
    async with gateway.http() as c:
        assert (await c.get("/docs")).status_code == 200
        paths = (await c.get("/openapi.json")).json()["paths"]
    assert "/v1/conversations/{conversation_id}/messages" in paths
    assert (await gateway.ops().get("/readyz")).status_code == 200
    # Never on the public port, which an ingress exposes.
    for path in ("/readyz", "/metrics", "/healthz"):
        assert (await gateway.http().get(path)).status_code == 404, path
