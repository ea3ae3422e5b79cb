"""The customer side of the simulator: authenticated inbound webhooks of every kind, status
webhooks after each send (in order, reversed, duplicated, or off), and bulk driving."""

import asyncio
import uuid

import httpx
import pytest

from contracts.outbound import OutboundText
from contracts.status import MessageStatus
from providers.base import ParsedWebhook, SendRequest
from providers.egress import EgressPolicy
from providers.http import create_client
from providers.registry import client
from simulator.control import SimControl
from simulator.server import RunningSimulator
from simulator.webhooks import KINDS
from tests.simulator.conftest import SECRETS
from tests.simulator.receiver import Received

PROVIDERS = ("meta", "evolution", "zapi")


def guarded(sim: RunningSimulator) -> httpx.AsyncClient:
    """The adapters' guarded client, allowed to reach this simulator only."""
    return create_client(EgressPolicy.reaching(sim.base_url))


async def register(sim: SimControl, provider: str, url: str, **plan: object) -> str:
    account = f"acc-{uuid.uuid4().hex[:12]}"
    await sim.register(
        provider, account, webhook_url=f"{url}/hook/{provider}", **SECRETS[provider], **plan
    )  # type: ignore[arg-type]
    return account


def mine(received: Received, account: str) -> list[ParsedWebhook]:
    return [p for _, p in received.accepted if account in p.account_refs]


async def wait_for(predicate: object, timeout_s: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():  # type: ignore[operator]
        if loop.time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_every_kind_is_posted_authenticated_and_parses(
    provider: str, sim: RunningSimulator, hook: tuple[str, Received]
) -> None:
    url, received = hook
    async with SimControl(sim.base_url) as control:
        account = await register(control, provider, url)
        for kind in KINDS:
            result = await control.inbound(
                provider, account, kind, reply_to="x/y" if "reaction" in kind else None
            )
            assert result["status"] == 200, kind
    messages = [m.message for p in mine(received, account) for m in p.messages]
    assert len(messages) == len(KINDS)
    assert {m.sender.phone for m in messages} == {"5511987654321"}


async def test_a_wrong_secret_is_refused_by_the_receiver(
    sim: RunningSimulator, hook: tuple[str, Received]
) -> None:
    url, _ = hook
    async with SimControl(sim.base_url) as control:
        for provider in PROVIDERS:
            account = f"bad-{uuid.uuid4().hex[:8]}"
            secret_key = "app_secret" if provider == "meta" else "webhook_secret"
            await control.register(
                provider, account, webhook_url=f"{url}/hook/{provider}", **{secret_key: "nope"}
            )
            assert (await control.inbound(provider, account))["status"] == 401


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(
    ("plan", "expected"),
    [
        ({}, ["sent", "delivered", "read"]),
        ({"out_of_order": True}, ["read", "delivered", "sent"]),
        ({"duplicate": True}, ["sent", "sent", "delivered", "delivered", "read", "read"]),
    ],
)
async def test_each_send_is_answered_with_status_webhooks(
    provider: str,
    plan: dict[str, bool],
    expected: list[str],
    sim: RunningSimulator,
    hook: tuple[str, Received],
) -> None:
    url, received = hook
    async with SimControl(sim.base_url) as control, guarded(sim) as http:
        account = await register(control, provider, url, **plan)
        credentials = {
            "access_token": "t",
            "phone_number_id": account,
            "api_key": "t",
            "instance": account,
            "instance_id": account,
            "token": "t",
        }
        adapter = client(provider, credentials, http, base_url=sim.base_url)
        sent = await adapter.send(SendRequest(to="5511987654321", content=OutboundText(body="hi")))
        await wait_for(
            lambda: sum(len(p.statuses) for p in mine(received, account)) >= len(expected)
        )
    statuses = [s for p in mine(received, account) for s in p.statuses]
    assert [s.status.value for s in statuses] == expected
    assert {s.provider_message_ids for s in statuses} == {(sent.provider_message_id,)}


async def test_status_webhooks_can_be_switched_off(
    sim: RunningSimulator, hook: tuple[str, Received]
) -> None:
    url, received = hook
    async with SimControl(sim.base_url) as control, guarded(sim) as http:
        account = await register(control, "meta", url, statuses=False)
        adapter = client(
            "meta", {"access_token": "t", "phone_number_id": account}, http, base_url=sim.base_url
        )
        await adapter.send(SendRequest(to="1", content=OutboundText(body="hi")))
        await control.inbound("meta", account)  # a later webhook proves nothing else was queued
        await wait_for(lambda: len(mine(received, account)) >= 1)
        await asyncio.sleep(0.2)
    assert not [s for p in mine(received, account) for s in p.statuses]


async def test_failed_status_carries_the_window_error(
    sim: RunningSimulator, hook: tuple[str, Received]
) -> None:
    url, received = hook
    async with SimControl(sim.base_url) as control, guarded(sim) as http:
        account = await register(control, "meta", url, status_sequence=("sent", "failed"))
        adapter = client(
            "meta", {"access_token": "t", "phone_number_id": account}, http, base_url=sim.base_url
        )
        await adapter.send(SendRequest(to="1", content=OutboundText(body="hi")))
        await wait_for(lambda: sum(len(p.statuses) for p in mine(received, account)) >= 2)
    failed = [
        s for p in mine(received, account) for s in p.statuses if s.status is MessageStatus.FAILED
    ]
    assert failed and failed[0].error is not None and failed[0].error.code == "131047"


async def test_drive_posts_count_messages_to_an_integration(
    sim: RunningSimulator, hook: tuple[str, Received]
) -> None:
    url, received = hook
    async with SimControl(sim.base_url) as control:
        for provider in PROVIDERS:
            account = await register(control, provider, url)
            outcome = await control.drive(
                count=12,
                rate_per_s=200,
                account_id=account,
                kinds=["text", "image", "voice"],
                customers=5,
            )
            assert outcome == {"posted": 12, "accepted": 12, "refused": 0}
            messages = [m.message for p in mine(received, account) for m in p.messages]
            assert len(messages) == 12
            assert {m.type.value for m in messages} == {"text", "image", "voice"}


async def test_requests_are_filterable_and_reset_clears(sim: RunningSimulator) -> None:
    async with SimControl(sim.base_url) as control:
        await control.register("zapi", "reset-me")
        async with httpx.AsyncClient() as http:
            adapter = client(
                "zapi", {"instance_id": "reset-me", "token": "x"}, http, base_url=sim.base_url
            )
            await adapter.send(SendRequest(to="1", content=OutboundText(body="hi")))
        assert len(await control.sends(provider="zapi", account_id="reset-me")) == 1
        assert await control.sends(provider="meta", account_id="reset-me") == []


async def test_zapi_failed_status_arrives_as_a_delivery_error(
    sim: RunningSimulator, hook: tuple[str, Received]
) -> None:
    url, received = hook
    async with SimControl(sim.base_url) as control, guarded(sim) as http:
        account = await register(control, "zapi", url, status_sequence=("failed",))
        adapter = client(
            "zapi", {"instance_id": account, "token": "t"}, http, base_url=sim.base_url
        )
        sent = await adapter.send(SendRequest(to="1", content=OutboundText(body="hi")))
        await wait_for(lambda: any(p.statuses for p in mine(received, account)))
    status = next(s for p in mine(received, account) for s in p.statuses)
    assert status.status is MessageStatus.FAILED
    assert status.provider_message_ids == (sent.provider_message_id,)
