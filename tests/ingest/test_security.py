"""ingest-api's security defences (issue #17): bounded metric labels, ops endpoints only on the
ops port, and Meta app-level bodies routed entry by entry."""

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import orjson
import pytest

from config.shared import DatabaseSettings, KafkaSettings
from contracts import Provider
from credentials import Vault
from providers.meta.verify import SIGNATURE_HEADER, sign
from simulator import webhooks
from tests.ingest.api_fixtures import META_APP_SECRET, Served, api_settings, serving
from tests.ingest.conftest import create_integration, eventually, fetch

pytestmark = pytest.mark.usefixtures("ingest_worker")

CUSTOMER = webhooks.Customer("5511912345678", "Bia Cliente")


@pytest.fixture(scope="module")
async def served(
    db_settings: DatabaseSettings, kafka_settings: KafkaSettings, vault: Vault
) -> AsyncIterator[Served]:
    async with serving(api_settings(), db_settings, kafka_settings, vault) as running_api:
        yield running_api


async def _metrics(http: httpx.AsyncClient, served: Served) -> str:
    response = await http.get(f"{served.ops_url}/metrics")
    assert response.status_code == 200
    return response.text


@pytest.mark.timeout(600)  # 10,000 requests on a shared 2-core machine
async def test_metrics_stay_bounded_after_10000_random_provider_names(served: Served) -> None:
    names = [f"p{secrets.token_hex(6)}" for _ in range(10_000)]
    queue: asyncio.Queue[str] = asyncio.Queue()

    async def post_all(http: httpx.AsyncClient) -> list[int]:
        statuses: list[int] = []
        while not queue.empty():
            name = queue.get_nowait()
            r = await http.post(f"{served.url}/webhooks/{name}/some-key", content=b"{}")
            statuses.append(r.status_code)
            assert r.status_code == 404, r.text
        return statuses

    limits = httpx.Limits(max_connections=16)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        for name in names[:100]:
            queue.put_nowait(name)
        first = await post_all(http)
        before = await _metrics(http, served)
        for name in names[100:]:
            queue.put_nowait(name)
        rest = await asyncio.gather(*(post_all(http) for _ in range(16)))
        after = await _metrics(http, served)
    answered = first + [s for part in rest for s in part]
    assert len(answered) == 10_000 and set(answered) == {404}
    assert 'ingest_webhook_rejections_total{code="unknown_integration",provider="unknown"}' in after
    assert not any(name in after for name in names)
    print(f"\n/metrics after 100 random providers: {len(before)} B, after 10,000: {len(after)} B")
    # Only counter values changed (a few more digits), no label set was added.
    assert len(after) - len(before) < 200, (len(before), len(after))


async def test_ops_endpoints_are_not_on_the_public_port(served: Served) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        for path in ("/metrics", "/readyz", "/healthz"):
            assert (await http.get(f"{served.url}{path}")).status_code == 404, path
            assert (await http.get(f"{served.ops_url}{path}")).status_code == 200, path


def _meta_body(account: str) -> dict[str, Any]:
    body: dict[str, Any] = orjson.loads(
        webhooks.inbound(Provider.META, account, CUSTOMER, webhooks.InboundSpec(), "http://sim")[1]
    )
    return body


def _two_entries(known: str, foreign_entry: dict[str, Any]) -> bytes:
    body = _meta_body(known)
    body["entry"].append(foreign_entry)
    return orjson.dumps(body)


async def _known_number(
    owner_conn: asyncpg.Connection, vault: Vault, make_tenant: Any, app_secret: str = "x"
) -> Any:
    tenant_id = await make_tenant("Meta entries")
    account = f"pn-{secrets.token_hex(5)}"
    credentials = {"app_secret": app_secret, "access_token": "t"}
    return await create_integration(owner_conn, vault, tenant_id, "meta", account, credentials)


async def _messages(pool: asyncpg.Pool, integ: Any) -> list[asyncpg.Record]:
    return await fetch(
        pool,
        integ.tenant_id,
        "SELECT provider_message_id FROM messages WHERE integration_id = $1",
        integ.integration_id,
    )


async def _skipped(http: httpx.AsyncClient, served: Served, reason: str) -> float:
    for line in (await _metrics(http, served)).splitlines():
        if line.startswith(f'ingest_meta_entries_skipped_total{{reason="{reason}"}}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_a_meta_app_body_with_one_foreign_entry_stores_the_other(
    served: Served,
    owner_conn: asyncpg.Connection,
    vault: Vault,
    make_tenant: Any,
    app_pool: asyncpg.Pool,
) -> None:
    integ = await _known_number(owner_conn, vault, make_tenant)
    foreign = _meta_body(f"pn-foreign-{secrets.token_hex(4)}")["entry"][0]
    body = _two_entries(integ.account, foreign)
    async with httpx.AsyncClient(timeout=15) as http:
        skipped_before = await _skipped(http, served, "unknown_number")
        r = await http.post(
            f"{served.url}/webhooks/meta",
            content=body,
            headers={SIGNATURE_HEADER: sign(body, META_APP_SECRET)},
        )
        assert r.status_code == 200, r.text
        assert r.json()["events"] == 1
        assert await _skipped(http, served, "unknown_number") == skipped_before + 1
    rows = await eventually(lambda: _messages(app_pool, integ), lambda found: len(found) == 1)
    assert len(rows) == 1
    # The tenant's raw webhook log keeps its own entry only, not the other number's.
    logs = await eventually(
        lambda: fetch(app_pool, integ.tenant_id, "SELECT body FROM webhook_logs"),
        lambda found: len(found) == 1,
    )
    kept = orjson.loads(logs[0]["body"])
    assert [e["changes"][0]["value"]["metadata"]["phone_number_id"] for e in kept["entry"]] == [
        integ.account
    ]


async def test_an_integration_url_routes_other_numbers_of_the_same_app_only(
    served: Served,
    owner_conn: asyncpg.Connection,
    vault: Vault,
    make_tenant: Any,
    app_pool: asyncpg.Pool,
) -> None:
    """A Meta app has one callback URL for all its numbers: the entries of a number posted to
    another integration's URL go to that number's integration if its app secret verifies the
    body; a number of another app (another secret), or unknown, is left out and counted."""
    app_secret = secrets.token_hex(8)
    home = await _known_number(owner_conn, vault, make_tenant, app_secret)
    sibling = await _known_number(owner_conn, vault, make_tenant, app_secret)
    stranger = await _known_number(owner_conn, vault, make_tenant, "another-app")
    body = _meta_body(home.account)
    for account in (sibling.account, stranger.account, f"pn-unknown-{secrets.token_hex(4)}"):
        body["entry"].append(_meta_body(account)["entry"][0])
    raw = orjson.dumps(body)
    url = f"{served.url}/webhooks/meta/{home.webhook_key}"
    async with httpx.AsyncClient(timeout=15) as http:
        before = {r: await _skipped(http, served, r) for r in ("other_app", "unknown_number")}
        r = await http.post(url, content=raw, headers={SIGNATURE_HEADER: sign(raw, app_secret)})
        assert r.status_code == 200, r.text
        assert r.json()["events"] == 2
        assert await _skipped(http, served, "other_app") == before["other_app"] + 1
        assert await _skipped(http, served, "unknown_number") == before["unknown_number"] + 1
        # Only other numbers' entries: nothing of this integration, refused as before.
        only_foreign = orjson.dumps(_meta_body(f"pn-unknown-{secrets.token_hex(4)}"))
        r = await http.post(
            url, content=only_foreign, headers={SIGNATURE_HEADER: sign(only_foreign, app_secret)}
        )
        assert r.status_code == 403 and r.json()["code"] == "foreign_account"
    for integ in (home, sibling):
        rows = await eventually(lambda i=integ: _messages(app_pool, i), lambda f: len(f) == 1)  # type: ignore[misc]
        assert len(rows) == 1
    assert await _messages(app_pool, stranger) == []
