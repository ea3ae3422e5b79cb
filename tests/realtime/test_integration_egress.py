"""Issue #17 item 1: a tenant admin cannot make the gateway call an internal address through an
integration. Saving one is refused with the reason; a row that points at one anyway (written
before these rules) gets a "refused" health summary; a loopback listener that is not on the
allow-list receives nothing, and nothing it would answer comes back."""

from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from credentials import Vault
from db.tenant import tenant_tx
from simulator.control import SimControl
from simulator.server import RunningSimulator
from tests.providers.listener import listening
from tests.realtime.conftest import Gateway, token


def meta_body(account: str, base_url: str | None, access_token: str = "tok") -> dict[str, Any]:
    return {
        "provider": "meta",
        "external_account_id": account,
        "api_base_url": base_url,
        "credentials": {"access_token": access_token, "phone_number_id": account},
    }


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("http://127.0.0.1:{port}/#", "fragment"),
        ("http://127.0.0.1:{port}", "not a public address"),
        ("http://localhost:{port}", "not an address provider calls may go to"),
        ("http://[::ffff:127.0.0.1]:{port}", "not a public address"),
        ("http://user:pw@127.0.0.1:{port}", "user or password"),
        ("http://127.0.0.1:{port}/?x=", "query"),
        ("https://169.254.169.254", "not a public address"),
        ("ftp://127.0.0.1:{port}", "https"),
    ],
)
async def test_saving_an_internal_base_url_is_refused_and_nothing_reaches_it(
    gateway: Gateway, make_tenant: Any, template: str, problem: str
) -> None:
    tenant_id = await make_tenant()
    async with listening() as internal:
        url = template.format(port=internal.port)
        async with gateway.http(token(tenant_id, "admin-1", "admin")) as admin:
            refused = await admin.post("/v1/integrations", json=meta_body("pn-1", url))
            assert refused.status_code == 422, refused.text
            assert refused.json()["code"] == "invalid_api_base_url"
            assert problem in refused.json()["detail"]
            assert (await admin.get("/v1/integrations")).json() == []
        assert internal.accepted == 0


async def test_health_and_patch_never_reach_an_internal_listener(
    gateway: Gateway,
    provider_sim: RunningSimulator,
    make_tenant: Any,
    app_pool: asyncpg.Pool,
    vault: Vault,
) -> None:
    tenant_id = await make_tenant()
    account = f"pn-{uuid4().hex[:10]}"
    async with SimControl(provider_sim.base_url) as control:
        await control.register("meta", account, access_token="tok")
    async with listening() as internal, gateway.http(token(tenant_id, "admin-1", "admin")) as admin:
        created = await admin.post(
            "/v1/integrations", json=meta_body(account, provider_sim.base_url)
        )
        assert created.status_code == 201, created.text
        integration_id = created.json()["id"]

        moved = await admin.patch(
            f"/v1/integrations/{integration_id}", json={"api_base_url": f"{internal.url}/#"}
        )
        assert (moved.status_code, moved.json()["code"]) == (422, "invalid_api_base_url")
        kept = await admin.get(f"/v1/integrations/{integration_id}")
        assert kept.json()["api_base_url"] == provider_sim.base_url

        # A row that points inside anyway (saved before these rules existed).
        async with tenant_tx(app_pool, tenant_id) as conn:
            await conn.execute(
                "UPDATE integrations SET api_base_url = $2 WHERE id = $1",
                integration_id,
                f"{internal.url}/#",
            )
        health = await admin.get(f"/v1/integrations/{integration_id}/health")
        assert health.status_code == 200
        assert health.json()["ok"] is False and health.json()["state"] == "refused"
        assert "internal-only" not in health.text
    assert internal.accepted == 0


async def test_a_verified_integration_keeps_its_base_url_normalized(
    gateway: Gateway, provider_sim: RunningSimulator, make_tenant: Any
) -> None:
    tenant_id = await make_tenant()
    account = f"pn-{uuid4().hex[:10]}"
    async with SimControl(provider_sim.base_url) as control:
        await control.register("meta", account, access_token="tok")
    async with gateway.http(token(tenant_id, "admin-1", "admin")) as admin:
        created = await admin.post(
            "/v1/integrations", json=meta_body(account, provider_sim.base_url.upper() + "/")
        )
        assert created.status_code == 201, created.text
        assert created.json()["api_base_url"] == provider_sim.base_url
