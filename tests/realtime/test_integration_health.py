"""GET /v1/integrations/{id}/health runs the provider adapter's health check against the
provider simulator."""

from uuid import uuid4

from simulator.control import SimControl
from simulator.server import running
from tests.realtime.conftest import Gateway, token


async def test_health_check_reaches_the_provider_and_reports_failures(
    gateway: Gateway, make_tenant
) -> None:  # type: ignore[no-untyped-def]
    tenant_id = await make_tenant()
    account = f"pn-{uuid4().hex[:10]}"
    with running() as sim:
        control = SimControl(sim.base_url)
        await control.register("meta", account, access_token="tok-1", app_secret="app-1")
        async with gateway.http(token(tenant_id, "admin-1", "admin")) as admin:
            created = await admin.post(
                "/v1/integrations",
                json={
                    "provider": "meta",
                    "external_account_id": account,
                    "api_base_url": sim.base_url,
                    "credentials": {
                        "access_token": "tok-1",
                        "phone_number_id": account,
                        "app_secret": "app-1",
                    },
                },
            )
            integration_id = created.json()["id"]
            healthy = await admin.get(f"/v1/integrations/{integration_id}/health")
            assert healthy.status_code == 200, healthy.text
            assert healthy.json()["ok"] is True
            assert "tok-1" not in healthy.text

            await control.fault("expired_token", provider="meta", endpoint="health")
            broken = await admin.get(f"/v1/integrations/{integration_id}/health")
            assert broken.status_code == 200
            assert broken.json()["ok"] is False and broken.json()["detail"]

            await admin.patch(
                f"/v1/integrations/{integration_id}", json={"credentials": {"access_token": "x"}}
            )
            incomplete = await admin.get(f"/v1/integrations/{integration_id}/health")
            assert incomplete.json()["code"] == "credentials_incomplete"
