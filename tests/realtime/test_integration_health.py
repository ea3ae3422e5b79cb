"""GET /v1/integrations/{id}/health makes one read-only call to the provider (here the
simulator) with the stored credentials and answers a summary: ok, a state, a fixed sentence.
Never the credentials, never what the provider answered."""

from uuid import uuid4

from simulator.control import SimControl
from simulator.server import RunningSimulator
from tests.realtime.conftest import Gateway, token


async def test_health_reports_a_summary_of_the_provider_answer(
    gateway: Gateway, provider_sim: RunningSimulator, make_tenant
) -> None:  # type: ignore[no-untyped-def]
    tenant_id = await make_tenant()
    account = f"pn-{uuid4().hex[:10]}"
    async with SimControl(provider_sim.base_url) as control:
        await control.register("meta", account, access_token="tok-1", app_secret="app-1")
        async with gateway.http(token(tenant_id, "admin-1", "admin")) as admin:
            created = await admin.post(
                "/v1/integrations",
                json={
                    "provider": "meta",
                    "external_account_id": account,
                    "api_base_url": provider_sim.base_url,
                    "credentials": {
                        "access_token": "tok-1",
                        "phone_number_id": account,
                        "app_secret": "app-1",
                    },
                },
            )
            assert created.status_code == 201, created.text
            integration_id = created.json()["id"]
            healthy = await admin.get(f"/v1/integrations/{integration_id}/health")
            assert healthy.status_code == 200, healthy.text
            assert healthy.json() == {
                "ok": True,
                "state": "ok",
                "detail": "the provider confirmed the account",
            }
            # The simulator answered the number's name and rating: none of it comes back.
            assert "Simulated Business" not in healthy.text and "tok-1" not in healthy.text

            await control.fault("expired_token", provider="meta", endpoint="health")
            broken = await admin.get(f"/v1/integrations/{integration_id}/health")
            assert broken.status_code == 200
            assert broken.json() == {
                "ok": False,
                "state": "auth",
                "detail": "the provider refused the credentials",
            }

            await control.fault("error_5xx", provider="meta", endpoint="health", status=503)
            down = await admin.get(f"/v1/integrations/{integration_id}/health")
            assert (down.json()["ok"], down.json()["state"]) == (False, "unreachable")


async def test_health_of_incomplete_stored_credentials_says_which_is_missing(
    gateway: Gateway, provider_sim: RunningSimulator, make_tenant, app_pool, vault
) -> None:  # type: ignore[no-untyped-def]
    from db.tenant import tenant_tx

    tenant_id = await make_tenant()
    account = f"pn-{uuid4().hex[:10]}"
    async with SimControl(provider_sim.base_url) as control:
        await control.register("meta", account, access_token="tok-2")
    async with gateway.http(token(tenant_id, "admin-1", "admin")) as admin:
        created = await admin.post(
            "/v1/integrations",
            json={
                "provider": "meta",
                "external_account_id": account,
                "api_base_url": provider_sim.base_url,
                "credentials": {"access_token": "tok-2"},
            },
        )
        assert created.status_code == 201, created.text
        integration_id = created.json()["id"]
        # Stored credentials that lost a field (written before a key was required, say).
        async with tenant_tx(app_pool, tenant_id) as conn:
            await conn.execute(
                "UPDATE integrations SET credentials = $2 WHERE id = $1",
                created.json()["id"],
                vault.seal({"phone_number_id": account}),
            )
        incomplete = await admin.get(f"/v1/integrations/{integration_id}/health")
        assert incomplete.status_code == 422
        assert incomplete.json()["code"] == "credentials_incomplete"
        assert "access_token" in incomplete.json()["detail"]
