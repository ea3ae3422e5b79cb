"""What real traffic carries beyond the content reaches the agents (issue #19): the ad a
customer came from, and Meta's own words for a message it could not deliver."""

import secrets
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import orjson
import pytest

from config.shared import DatabaseSettings, KafkaSettings
from contracts import MessageCreated
from credentials import Vault
from providers.meta.verify import SIGNATURE_HEADER, sign
from tests.ingest.api_fixtures import Served, api_settings, serving
from tests.ingest.conftest import create_integration, realtime_for
from tests.providers.payloads import fixture

pytestmark = pytest.mark.usefixtures("ingest_worker")


@pytest.fixture(scope="module")
async def served(
    db_settings: DatabaseSettings, kafka_settings: KafkaSettings, vault: Vault
) -> AsyncIterator[Served]:
    async with serving(api_settings(), db_settings, kafka_settings, vault) as running_api:
        yield running_api


async def test_the_ad_and_metas_error_words_reach_the_inbox(
    served: Served,
    owner_conn: asyncpg.Connection,
    vault: Vault,
    make_tenant: Any,
    kafka_settings: KafkaSettings,
) -> None:
    tenant_id = await make_tenant("Message details")
    secret = secrets.token_hex(8)
    account = f"pn-{secrets.token_hex(5)}"
    integ = await create_integration(
        owner_conn,
        vault,
        tenant_id,
        "meta",
        account,
        {"app_secret": secret, "access_token": "t"},
    )
    async with httpx.AsyncClient(timeout=15) as http:
        for name in ("message_referral", "message_unsupported"):
            body: dict[str, Any] = orjson.loads(fixture("meta", name))
            body["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = account
            raw = orjson.dumps(body)
            r = await http.post(
                f"{served.url}/webhooks/meta/{integ.webhook_key}",
                content=raw,
                headers={SIGNATURE_HEADER: sign(raw, secret)},
            )
            assert r.status_code == 200, r.text

    def created(found: list[Any]) -> list[Any]:
        return [e.message for e in found if isinstance(e, MessageCreated)]

    found = await realtime_for(kafka_settings, tenant_id, lambda f: len(created(f)) == 2)
    by_type = {view.type.value: view for view in created(found)}
    ad = by_type["text"].referral
    assert ad is not None and ad.source_id == "120212345678900000" and ad.source_type == "ad"
    assert ad.ctwa_clid and ad.media_url == "https://scontent.xx.fbcdn.net/v/t45.1600-4/ad.jpg"
    assert by_type["unsupported"].unsupported_reason == (
        "Message type unknown (131051): Message type is currently not supported."
    )
