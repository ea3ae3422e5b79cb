"""Issue #17 item 6: a number belongs to the tenant that proves it. Creating an integration
calls the provider with the given credentials first; credentials that do not control the
account are refused with one answer that is the same whether or not another tenant connected
that account, and the other tenant's integration and webhook route stay as they were. Two
self-hosted Evolution servers may each have an instance of the same name."""

from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest

from simulator.control import SimControl
from simulator.server import RunningSimulator
from tests.realtime.conftest import Gateway, token

TOKEN_KEYS = {"meta": "access_token", "evolution": "api_key", "zapi": "token"}
ACCOUNT_KEYS = {"meta": "phone_number_id", "evolution": "instance", "zapi": "instance_id"}


def body(provider: str, account: str, secret: str, base_url: str) -> dict[str, Any]:
    credentials = {TOKEN_KEYS[provider]: secret, ACCOUNT_KEYS[provider]: account}
    if provider == "zapi":
        credentials["client_token"] = f"ct-{secret}"
    return {
        "provider": provider,
        "external_account_id": account,
        "api_base_url": base_url,
        "credentials": credentials,
    }


async def register(sim: RunningSimulator, provider: str, account: str, secret: str) -> None:
    async with SimControl(sim.base_url) as control:
        await control.register(
            provider,
            account,
            access_token=secret,
            client_token=f"ct-{secret}" if provider == "zapi" else None,
            statuses=False,
        )


def answer(response: httpx.Response) -> tuple[int, dict[str, Any]]:
    """Everything a caller learns, except what differs per request anyway."""
    return response.status_code, response.json()


@pytest.mark.parametrize("provider", ["meta", "evolution", "zapi"])
async def test_another_tenants_number_cannot_be_claimed_and_the_answer_reveals_nothing(
    gateway: Gateway,
    provider_sim: RunningSimulator,
    make_tenant: Any,
    owner_conn: asyncpg.Connection,
    provider: str,
) -> None:
    tenant_a, tenant_b = await make_tenant("A"), await make_tenant("B")
    taken, free = f"{provider}-{uuid4().hex[:10]}", f"{provider}-{uuid4().hex[:10]}"
    await register(provider_sim, provider, taken, "secret-of-a")
    await register(provider_sim, provider, free, "secret-of-someone")
    base = provider_sim.base_url
    async with gateway.http(token(tenant_a, "admin-1", "admin")) as a:
        created = await a.post("/v1/integrations", json=body(provider, taken, "secret-of-a", base))
        assert created.status_code == 201, created.text
        assert created.json()["status"] == "active"
    async with gateway.http(token(tenant_b, "admin-1", "admin")) as b:
        guesses = [
            await b.post("/v1/integrations", json=body(provider, taken, "a-guess", base)),
            await b.post("/v1/integrations", json=body(provider, free, "a-guess", base)),
            await b.post("/v1/integrations", json=body(provider, f"no-{uuid4().hex}", "x", base)),
        ]
        assert answer(guesses[0]) == answer(guesses[1]) == answer(guesses[2])
        status, problem = answer(guesses[0])
        assert (status, problem["code"]) == (422, "account_not_verified")
        assert problem["detail"] == "could not verify this account with these credentials"
        assert (await b.get("/v1/integrations")).json() == []

    route = await owner_conn.fetchrow(
        "SELECT tenant_id, integration_id FROM route_by_account($1, $2)", provider, taken
    )
    assert route is not None and route["tenant_id"] == tenant_a
    assert route["integration_id"] == UUID(created.json()["id"])


async def test_credentials_for_another_account_are_refused(
    gateway: Gateway, provider_sim: RunningSimulator, make_tenant: Any
) -> None:
    tenant = await make_tenant()
    mine, theirs = f"pn-{uuid4().hex[:10]}", f"pn-{uuid4().hex[:10]}"
    await register(provider_sim, "meta", mine, "my-token")
    claim = body("meta", theirs, "my-token", provider_sim.base_url)
    claim["credentials"]["phone_number_id"] = mine  # proves control of mine, not theirs
    async with gateway.http(token(tenant, "admin-1", "admin")) as admin:
        refused = await admin.post("/v1/integrations", json=claim)
        assert (refused.status_code, refused.json()["code"]) == (422, "invalid_credentials")


async def test_changing_credentials_or_server_is_verified_again(
    gateway: Gateway, provider_sim: RunningSimulator, make_tenant: Any
) -> None:
    tenant = await make_tenant()
    account = f"pn-{uuid4().hex[:10]}"
    await register(provider_sim, "meta", account, "right")
    async with gateway.http(token(tenant, "admin-1", "admin")) as admin:
        created = await admin.post(
            "/v1/integrations", json=body("meta", account, "right", provider_sim.base_url)
        )
        path = f"/v1/integrations/{created.json()['id']}"
        wrong = await admin.patch(path, json={"credentials": {"access_token": "wrong"}})
        assert (wrong.status_code, wrong.json()["code"]) == (422, "account_not_verified")
        assert (await admin.get(f"{path}/health")).json()["ok"] is True  # still the old ones
        rotated = await admin.patch(path, json={"credentials": {"access_token": "right"}})
        assert rotated.status_code == 200, rotated.text


async def test_the_proven_owner_of_a_connected_account_gets_a_conflict(
    gateway: Gateway, provider_sim: RunningSimulator, make_tenant: Any
) -> None:
    """Only someone who proved control of the account can learn it is connected already."""
    tenant = await make_tenant()
    account = f"pn-{uuid4().hex[:10]}"
    await register(provider_sim, "meta", account, "tok")
    request = body("meta", account, "tok", provider_sim.base_url)
    async with gateway.http(token(tenant, "admin-1", "admin")) as admin:
        assert (await admin.post("/v1/integrations", json=request)).status_code == 201
        again = await admin.post("/v1/integrations", json=request)
        assert (again.status_code, again.json()["code"]) == (409, "integration_exists")


async def test_two_evolution_servers_may_each_have_an_instance_of_the_same_name(
    gateway: Gateway,
    provider_sim: RunningSimulator,
    second_sim: RunningSimulator,
    make_tenant: Any,
) -> None:
    tenant_a, tenant_b = await make_tenant("A"), await make_tenant("B")
    instance = f"main-{uuid4().hex[:8]}"
    await register(provider_sim, "evolution", instance, "key-a")
    await register(second_sim, "evolution", instance, "key-b")
    async with gateway.http(token(tenant_a, "admin-1", "admin")) as a:
        on_first = await a.post(
            "/v1/integrations", json=body("evolution", instance, "key-a", provider_sim.base_url)
        )
        assert on_first.status_code == 201, on_first.text
    async with gateway.http(token(tenant_b, "admin-1", "admin")) as b:
        on_second = await b.post(
            "/v1/integrations", json=body("evolution", instance, "key-b", second_sim.base_url)
        )
        assert on_second.status_code == 201, on_second.text
        assert on_second.json()["webhook_url"] != on_first.json()["webhook_url"]
        # The same server's instance, with the other tenant's key, is still not B's.
        stolen = await b.post(
            "/v1/integrations", json=body("evolution", instance, "key-b", provider_sim.base_url)
        )
        assert (stolen.status_code, stolen.json()["code"]) == (422, "account_not_verified")


async def test_evolution_needs_its_server(
    gateway: Gateway, provider_sim: RunningSimulator, make_tenant: Any
) -> None:
    tenant = await make_tenant()
    request = {
        "provider": "evolution",
        "external_account_id": "main",
        "credentials": {"api_key": "k", "instance": "main"},
    }
    async with gateway.http(token(tenant, "admin-1", "admin")) as admin:
        refused = await admin.post("/v1/integrations", json=request)
        assert (refused.status_code, refused.json()["code"]) == (422, "invalid_api_base_url")
        request["api_base_url"] = provider_sim.base_url
        request["credentials"]["base_url"] = "http://10.0.0.1"  # type: ignore[index]
        smuggled = await admin.post("/v1/integrations", json=request)
        assert (smuggled.status_code, smuggled.json()["code"]) == (422, "invalid_credentials")
