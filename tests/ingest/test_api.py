"""ingest-api end to end: the provider simulator posts signed webhooks of every provider and
message kind to ingest-api, which publishes them; ingest-worker persists them."""

from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import pytest

from config.shared import DatabaseSettings, KafkaSettings
from contracts import MessageCreated, MessageStatus, Provider
from credentials import Vault
from providers.base import Rejection
from providers.meta.verify import SIGNATURE_HEADER, sign
from providers.registry import codec
from providers.secret import TOKEN_HEADER
from simulator import webhooks
from simulator.control import SimControl
from simulator.server import RunningSimulator, running
from tests.ingest.api_fixtures import (
    META_APP_SECRET,
    Served,
    Wired,
    api_settings,
    serving,
    wire,
)
from tests.ingest.conftest import eventually, fetch, realtime_for

pytestmark = pytest.mark.usefixtures("ingest_worker")

CUSTOMER = webhooks.Customer("5511987654321", "Ana Cliente")


@pytest.fixture(scope="module")
def provider_sim() -> Iterator[RunningSimulator]:
    with running() as sim:
        yield sim


@pytest.fixture
async def sim(provider_sim: RunningSimulator) -> AsyncIterator[SimControl]:
    async with SimControl(provider_sim.base_url) as control:
        yield control


@pytest.fixture(scope="module")
async def served(
    db_settings: DatabaseSettings, kafka_settings: KafkaSettings, vault: Vault
) -> AsyncIterator[Served]:
    async with serving(api_settings(), db_settings, kafka_settings, vault) as running_api:
        yield running_api


@pytest.fixture(scope="module")
def api_url(served: Served) -> str:
    return served.url


def _signed(wired: Wired, body: bytes) -> tuple[str, dict[str, str]]:
    """(URL, headers) authenticating ``body`` the way the integration's provider does."""
    provider = wired.integ.provider
    if provider == Provider.META:
        return wired.url, {SIGNATURE_HEADER: sign(body, wired.secret)}
    if provider == Provider.EVOLUTION:
        return wired.url, {TOKEN_HEADER: wired.secret}
    return f"{wired.url}?token={wired.secret}", {}


async def _post(wired: Wired, body: bytes, headers: dict[str, str] | None = None) -> int:
    url, auth = _signed(wired, body)
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(
            url,
            content=body,
            headers={"Content-Type": "application/json", **auth, **(headers or {})},
        )
    return response.status_code


async def _rows(pool: asyncpg.Pool, wired: Wired) -> list[asyncpg.Record]:
    return await fetch(
        pool,
        wired.integ.tenant_id,
        "SELECT * FROM messages WHERE integration_id = $1",
        wired.integ.integration_id,
    )


REPLY_KINDS = {"button_reply", "list_reply", "template_button"}
PLAIN_KINDS = [k for k in webhooks.KINDS if not k.startswith("reaction")]


@pytest.mark.parametrize("provider", list(Provider))
async def test_every_message_kind_of_each_provider_becomes_one_row_and_a_realtime_event(
    provider: Provider,
    sim: SimControl,
    api_url: str,
    make_tenant: Any,
    owner_conn: asyncpg.Connection,
    vault: Vault,
    app_pool: asyncpg.Pool,
    kafka_settings: KafkaSettings,
) -> None:
    tenant_id = await make_tenant(f"Kinds {provider.value}")
    wired = await wire(owner_conn, vault, sim, api_url, tenant_id, provider)
    sent: dict[str, str] = {}
    for kind in PLAIN_KINDS:
        answer = await sim.inbound(provider, wired.integ.account, kind, name="Ana Cliente")
        assert answer["status"] == 200, kind
        sent[answer["provider_message_id"]] = kind
    target = next(pmid for pmid, kind in sent.items() if kind == "text")
    reacted = await sim.inbound(provider, wired.integ.account, "reaction", reply_to=target)
    assert reacted["status"] == 200

    rows = await eventually(
        lambda: _rows(app_pool, wired),
        lambda r: len(r) == len(PLAIN_KINDS) and any(x["reactions"] for x in r),
    )
    assert sorted(r["provider_message_id"] for r in rows) == sorted(sent)
    assert len({r["conversation_id"] for r in rows}) == 1
    for row in rows:
        kind = sent[row["provider_message_id"]]
        if kind in REPLY_KINDS:
            assert row["type"] in {"interactive_reply", "button_reply"}
        else:
            assert row["type"] == kind
        assert row["direction"] == "inbound" and row["sender_name"] == "Ana Cliente"
        if kind in {"text", "image", "video"}:
            assert (row["text"] or row["caption"]) == "hello from the simulator"
        if kind in {"image", "video", "audio", "voice", "document", "sticker"}:
            assert row["media_state"] == "pending" and row["media_provider_ref"]
    by_id = {r["provider_message_id"]: r for r in rows}
    assert by_id[target]["reactions"] == [{"emoji": "👍", "direction": "inbound"}]
    contact = await fetch(app_pool, tenant_id, "SELECT display_name FROM contacts")
    assert [c["display_name"] for c in contact] == ["Ana Cliente"]

    found = await realtime_for(
        kafka_settings,
        tenant_id,
        lambda f: sum(isinstance(e, MessageCreated) for e in f) >= len(PLAIN_KINDS),
    )
    created = {e.message.provider_message_id for e in found if isinstance(e, MessageCreated)}
    assert created == set(sent)


async def test_same_webhook_five_times_makes_one_row(
    sim: SimControl,
    api_url: str,
    make_tenant: Any,
    owner_conn: asyncpg.Connection,
    vault: Vault,
    app_pool: asyncpg.Pool,
) -> None:
    tenant_id = await make_tenant("Five times")
    wired = await wire(owner_conn, vault, sim, api_url, tenant_id, Provider.META)
    pmid, body = webhooks.inbound(
        Provider.META, wired.integ.account, CUSTOMER, webhooks.InboundSpec(), "http://sim"
    )
    for _ in range(5):
        assert await _post(wired, body) == 200
    _, marker = webhooks.inbound(
        Provider.META, wired.integ.account, CUSTOMER, webhooks.InboundSpec(), "http://sim"
    )
    assert await _post(wired, marker) == 200  # after the five: once it is in, they all are
    rows = await eventually(lambda: _rows(app_pool, wired), lambda r: len(r) >= 2)
    assert sum(r["provider_message_id"] == pmid for r in rows) == 1 and len(rows) == 2
    logs = await fetch(app_pool, tenant_id, "SELECT outcome FROM webhook_logs")
    assert [r["outcome"] for r in logs] == ["accepted"] * 6


@pytest.mark.parametrize("provider", list(Provider))
async def test_statuses_out_of_order_and_duplicated_end_at_the_highest(
    provider: Provider,
    sim: SimControl,
    api_url: str,
    make_tenant: Any,
    owner_conn: asyncpg.Connection,
    vault: Vault,
    app_pool: asyncpg.Pool,
) -> None:
    tenant_id = await make_tenant("Statuses")
    wired = await wire(owner_conn, vault, sim, api_url, tenant_id, provider)
    answer = await sim.inbound(provider, wired.integ.account, "text")
    assert answer["status"] == 200
    await eventually(lambda: _rows(app_pool, wired), lambda r: len(r) == 1)
    recipient = "5511987654321"
    wire_id = f"OUT{wired.integ.integration_id.hex[:12].upper()}"
    # The id as the adapter reports it (Evolution's is "<jid>/<id>"), as the dispatcher stores it.
    probe = codec(provider).parse(
        webhooks.status(provider, wired.integ.account, wire_id, "sent", recipient)
    )
    assert not isinstance(probe, Rejection)
    sent_id = probe.statuses[0].provider_message_ids[0]
    # The dispatcher's row for a message it sent, with the provider's id recorded.
    await fetch(
        app_pool,
        tenant_id,
        """
        INSERT INTO messages (tenant_id, conversation_id, integration_id, direction, type,
                              status, provider_message_id, text)
        SELECT tenant_id, conversation_id, integration_id, 'outbound', 'text', 'sent', $1, 'oi'
        FROM messages LIMIT 1
        """,
        sent_id,
    )
    for value in ("read", "delivered", "read", "sent", "delivered"):
        body = webhooks.status(provider, wired.integ.account, wire_id, value, recipient)
        assert await _post(wired, body) == 200
    marker = webhooks.status(provider, wired.integ.account, "unknown-id", "delivered", recipient)
    assert await _post(wired, marker) == 200
    parked = await eventually(
        lambda: fetch(app_pool, tenant_id, "SELECT * FROM parked_statuses"), lambda r: len(r) == 1
    )
    assert len(parked) == 1  # the marker, processed after the others
    rows = await fetch(
        app_pool, tenant_id, "SELECT * FROM messages WHERE provider_message_id = $1", sent_id
    )
    assert rows[0]["status"] == MessageStatus.READ.value and rows[0]["read_at"] is not None


@pytest.fixture
async def meta(
    sim: SimControl,
    api_url: str,
    make_tenant: Any,
    owner_conn: asyncpg.Connection,
    vault: Vault,
) -> Wired:
    tenant_id = await make_tenant("Refusals")
    return await wire(owner_conn, vault, sim, api_url, tenant_id, Provider.META)


def _text(account: str) -> bytes:
    return webhooks.inbound(Provider.META, account, CUSTOMER, webhooks.InboundSpec(), "http://sim")[
        1
    ]


async def test_refused_webhooks_get_their_status_and_write_nothing(
    meta: Wired, app_pool: asyncpg.Pool, api_url: str, served: Served
) -> None:
    body = _text(meta.integ.account)
    async with httpx.AsyncClient(timeout=10) as http:
        tampered = body.replace(b"hello", b"HELLO")
        r = await http.post(
            meta.url, content=tampered, headers={SIGNATURE_HEADER: sign(body, meta.secret)}
        )
        assert r.status_code == 401 and r.json()["code"] == "not_authentic"
        r = await http.post(meta.url, content=body, headers={SIGNATURE_HEADER: sign(body, "wrong")})
        assert r.status_code == 401
        r = await http.post(meta.url, content=body)  # no signature at all
        assert r.status_code == 401
        unknown = f"{api_url}/webhooks/meta/{'x' * 43}"
        r = await http.post(
            unknown, content=body, headers={SIGNATURE_HEADER: sign(body, meta.secret)}
        )
        assert r.status_code == 404
        big = b'{"pad": "' + b"a" * (70 * 1024) + b'"}'
        r = await http.post(
            meta.url, content=big, headers={SIGNATURE_HEADER: sign(big, meta.secret)}
        )
        assert r.status_code == 413
        bad = b'{"object": "whatsapp_business_account", '
        r = await http.post(
            meta.url, content=bad, headers={SIGNATURE_HEADER: sign(bad, meta.secret)}
        )
        assert r.status_code == 400 and r.json()["code"] == "malformed_json"
        foreign = _text("some-other-number")
        r = await http.post(
            meta.url, content=foreign, headers={SIGNATURE_HEADER: sign(foreign, meta.secret)}
        )
        assert r.status_code == 403 and r.json()["code"] == "foreign_account"
        assert (await http.get(f"{api_url}/metrics")).status_code == 404  # ops port only
        metrics = (await http.get(f"{served.ops_url}/metrics")).text
        assert 'ingest_webhook_rejections_total{code="not_authentic",provider="meta"}' in metrics
    accepted = _text(meta.integ.account)
    assert await _post(meta, accepted) == 200  # the control: accepted
    logs = await eventually(
        lambda: fetch(app_pool, meta.integ.tenant_id, "SELECT * FROM webhook_logs"),
        lambda r: len(r) >= 1,
    )
    assert len(logs) == 1 and len(await _rows(app_pool, meta)) == 1
    # kept raw by the message event that carried it
    assert (logs[0]["body"], logs[0]["outcome"], logs[0]["event_count"]) == (
        accepted.decode(),
        "accepted",
        1,
    )


async def test_authentic_but_unparseable_webhook_is_logged_failed_and_answered_200(
    meta: Wired, app_pool: asyncpg.Pool
) -> None:
    assert await _post(meta, b'{"object": "page", "entry": []}') == 200
    logs = await eventually(
        lambda: fetch(app_pool, meta.integ.tenant_id, "SELECT * FROM webhook_logs"),
        lambda r: len(r) == 1,
    )
    assert logs[0]["outcome"] == "failed" and logs[0]["error"]
    assert await _rows(app_pool, meta) == []


async def test_a_disabled_integration_is_refused_within_the_cache_ttl(
    meta: Wired, owner_conn: asyncpg.Connection
) -> None:
    assert await _post(meta, _text(meta.integ.account)) == 200
    async with owner_conn.transaction():
        await owner_conn.execute(
            "SELECT set_config('app.tenant_id', $1, true)", str(meta.integ.tenant_id)
        )
        await owner_conn.execute(
            "UPDATE integrations SET status = 'disabled' WHERE id = $1", meta.integ.integration_id
        )
    codes = await eventually(
        lambda: _post(meta, _text(meta.integ.account)), lambda c: c == 403, timeout_s=5
    )
    assert codes == 403


async def test_meta_handshakes(meta: Wired, api_url: str) -> None:
    params = {
        "hub.mode": "subscribe",
        "hub.challenge": "12345",
        "hub.verify_token": meta.integ.verify_token,
    }
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.get(meta.url, params=params)
        assert r.status_code == 200 and r.text == "12345"
        r = await http.get(meta.url, params={**params, "hub.verify_token": "nope"})
        assert r.status_code == 403
        r = await http.get(
            f"{api_url}/webhooks/meta", params={**params, "hub.verify_token": "app-verify-token"}
        )
        assert r.status_code == 200 and r.text == "12345"


async def test_meta_app_level_endpoint_routes_each_number_to_its_tenant(
    sim: SimControl,
    api_url: str,
    make_tenant: Any,
    owner_conn: asyncpg.Connection,
    vault: Vault,
    app_pool: asyncpg.Pool,
) -> None:
    first = await wire(owner_conn, vault, sim, api_url, await make_tenant("App 1"), Provider.META)
    second = await wire(owner_conn, vault, sim, api_url, await make_tenant("App 2"), Provider.META)
    for wired in (first, second):
        await sim.register(
            Provider.META,
            wired.integ.account,
            webhook_url=f"{api_url}/webhooks/meta",
            app_secret=META_APP_SECRET,
        )
        assert (await sim.inbound(Provider.META, wired.integ.account, "text"))["status"] == 200
    for wired in (first, second):
        rows = await eventually(lambda w=wired: _rows(app_pool, w), lambda r: len(r) == 1)  # type: ignore[misc]
        assert len(rows) == 1
    async with httpx.AsyncClient(timeout=10) as http:
        body = _text(first.integ.account)
        r = await http.post(
            f"{api_url}/webhooks/meta",
            content=body,
            headers={SIGNATURE_HEADER: sign(body, first.secret)},
        )
        assert r.status_code == 401  # the app-level endpoint takes the app's secret only
