"""Meta posts bodies whose changes we do not act on (fields added later, a group's messages
for an integration that ignores groups): for a known number they are authentic traffic,
answered 200 and kept raw under its integration, since Meta retries any other answer for days
(issue #19)."""

import secrets
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import orjson
import pytest

from config.shared import DatabaseSettings, KafkaSettings
from credentials import Vault
from providers.meta.verify import SIGNATURE_HEADER, sign
from tests.ingest.api_fixtures import META_APP_SECRET, Served, api_settings, serving
from tests.ingest.conftest import Integration, create_integration, eventually, fetch
from tests.providers.payloads import fixture

pytestmark = pytest.mark.usefixtures("ingest_worker")


@pytest.fixture(scope="module")
async def served(
    db_settings: DatabaseSettings, kafka_settings: KafkaSettings, vault: Vault
) -> AsyncIterator[Served]:
    async with serving(api_settings(), db_settings, kafka_settings, vault) as running_api:
        yield running_api


async def _number(owner_conn: asyncpg.Connection, vault: Vault, make_tenant: Any) -> Integration:
    tenant_id = await make_tenant("Quiet Meta bodies")
    credentials = {"app_secret": "x", "access_token": "t"}
    account = f"pn-{secrets.token_hex(5)}"
    return await create_integration(owner_conn, vault, tenant_id, "meta", account, credentials)


def _group_for(account: str) -> bytes:
    # The integration keeps the default group policy, ``ignore``.
    body: dict[str, Any] = orjson.loads(fixture("meta", "message_group"))
    body["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = account
    return orjson.dumps(body)


def _unknown_field_for(account: str) -> bytes:
    change = {
        "field": "a_field_meta_adds_later",
        "value": {"metadata": {"phone_number_id": account}, "anything": [1, 2]},
    }
    return orjson.dumps(
        {"object": "whatsapp_business_account", "entry": [{"id": "W", "changes": [change]}]}
    )


async def _post(http: httpx.AsyncClient, url: str, body: bytes) -> httpx.Response:
    return await http.post(
        url, content=body, headers={SIGNATURE_HEADER: sign(body, META_APP_SECRET)}
    )


@pytest.mark.parametrize("make_body", [_group_for, _unknown_field_for])
async def test_a_body_of_only_unhandled_changes_is_answered_200_and_logged(
    make_body: Any,
    served: Served,
    owner_conn: asyncpg.Connection,
    vault: Vault,
    make_tenant: Any,
    app_pool: asyncpg.Pool,
) -> None:
    integ = await _number(owner_conn, vault, make_tenant)
    body = make_body(integ.account)
    async with httpx.AsyncClient(timeout=15) as http:
        r = await _post(http, f"{served.url}/webhooks/meta", body)
    assert r.status_code == 200, r.text
    assert r.json()["events"] == 0
    logs = await eventually(
        lambda: fetch(app_pool, integ.tenant_id, "SELECT * FROM webhook_logs"),
        lambda found: len(found) == 1,
    )
    assert (logs[0]["outcome"], logs[0]["event_count"]) == ("accepted", 0)
    assert orjson.loads(logs[0]["body"]) == orjson.loads(body)
    messages = await fetch(app_pool, integ.tenant_id, "SELECT id FROM messages")
    assert messages == []


async def test_a_quiet_change_beside_a_message_of_another_number_goes_to_each_its_own(
    served: Served,
    owner_conn: asyncpg.Connection,
    vault: Vault,
    make_tenant: Any,
    app_pool: asyncpg.Pool,
) -> None:
    quiet = await _number(owner_conn, vault, make_tenant)
    other = await _number(owner_conn, vault, make_tenant)
    body = orjson.loads(_group_for(quiet.account))
    message = orjson.loads(fixture("meta", "message_text"))["entry"][0]
    message["changes"][0]["value"]["metadata"]["phone_number_id"] = other.account
    body["entry"].append(message)
    async with httpx.AsyncClient(timeout=15) as http:
        r = await _post(http, f"{served.url}/webhooks/meta", orjson.dumps(body))
    assert r.status_code == 200, r.text
    assert r.json()["events"] == 1
    for integ, expected in ((quiet, 0), (other, 1)):
        logs = await eventually(
            lambda i=integ: fetch(app_pool, i.tenant_id, "SELECT * FROM webhook_logs"),  # type: ignore[misc]
            lambda found: len(found) == 1,
        )
        kept = orjson.loads(logs[0]["body"])
        # Each tenant's raw log holds its own number's part only.
        assert [e["changes"][0]["value"]["metadata"]["phone_number_id"] for e in kept["entry"]] == [
            integ.account
        ]
        assert logs[0]["event_count"] == expected


async def test_unhandled_changes_of_an_unknown_number_are_still_refused(served: Served) -> None:
    body = _group_for(f"pn-unknown-{secrets.token_hex(4)}")
    async with httpx.AsyncClient(timeout=15) as http:
        r = await _post(http, f"{served.url}/webhooks/meta", body)
    assert r.status_code == 404 and r.json()["code"] == "unknown_integration"
