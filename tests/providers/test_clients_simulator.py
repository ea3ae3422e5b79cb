"""Each adapter over real HTTP against the simulator: sends, mark-read, media fetch, health,
and every fault mode classified the way the dispatcher needs."""

import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from contracts.inbound import MediaRef
from contracts.outbound import OutboundMedia, OutboundReaction, OutboundText
from providers import errors
from providers.base import OutboundMediaSource, ProviderClient, SendRequest
from providers.egress import EgressPolicy
from providers.http import create_client
from providers.registry import client
from simulator.control import SimControl
from simulator.server import RunningSimulator

PROVIDERS = ("meta", "evolution", "zapi")


@dataclass
class Setup:
    provider: str
    account: str
    client: ProviderClient
    sim: SimControl


@pytest.fixture
async def http(provider_sim: RunningSimulator) -> AsyncIterator[httpx.AsyncClient]:
    policy = EgressPolicy.reaching(provider_sim.base_url)
    async with create_client(policy, connect_s=2.0, read_s=1.0) as shared:
        yield shared


async def make(provider: str, sim_server: RunningSimulator, http: httpx.AsyncClient) -> Setup:
    account = f"acc-{uuid.uuid4().hex[:12]}"
    control = SimControl(sim_server.base_url)
    credentials = {
        "meta": {"access_token": "tok", "app_secret": "a", "phone_number_id": account},
        "evolution": {"api_key": "tok", "instance": account, "webhook_secret": "w"},
        "zapi": {
            "instance_id": account,
            "token": "tok",
            "client_token": "ct",
            "webhook_secret": "w",
        },
    }[provider]
    await control.register(
        provider,
        account,
        access_token="tok",
        client_token="ct" if provider == "zapi" else None,
        statuses=False,
    )
    adapter = client(provider, credentials, http, base_url=sim_server.base_url)
    return Setup(provider, account, adapter, control)


@pytest.fixture(params=PROVIDERS)
async def setup(
    request: pytest.FixtureRequest, provider_sim: RunningSimulator, http: httpx.AsyncClient
) -> AsyncIterator[Setup]:
    made = await make(request.param, provider_sim, http)
    yield made
    await made.sim.aclose()


def text(to: str = "5511987654321") -> SendRequest:
    return SendRequest(to=to, content=OutboundText(body="Olá"), client_message_id="c-1")


async def test_send_text_returns_the_id_the_simulator_recorded(setup: Setup) -> None:
    result = await setup.client.send(text())
    recorded = await setup.sim.sends(provider=setup.provider, account_id=setup.account)
    assert [r["provider_message_id"] for r in recorded] == [result.provider_message_id]
    assert recorded[0]["answered"] in (200, 201)


async def test_send_media_reaction_and_mark_read_reach_the_provider(setup: Setup) -> None:
    content = OutboundMedia(media_type="image", media_key="k", mime="image/jpeg", caption="c")
    link = OutboundMediaSource(link="https://bucket.example/k?sig=1")
    sent = await setup.client.send(SendRequest(to="5511987654321", content=content, media=link))
    reaction = OutboundReaction(target_provider_message_id=sent.provider_message_id, emoji="👍")
    await setup.client.send(SendRequest(to="5511987654321", content=reaction))
    await setup.client.mark_read("5511987654321", sent.provider_message_id)
    calls = await setup.sim.requests(provider=setup.provider, account_id=setup.account)
    assert [c["endpoint"] for c in calls] == ["send", "send", "mark_read"]
    assert "https://bucket.example/k?sig=1" in str(calls[0]["body"])


async def test_number_not_on_whatsapp_is_permanent(setup: Setup) -> None:
    with pytest.raises(errors.Permanent) as caught:
        await setup.client.send(text("0001234"))
    assert not isinstance(caught.value, errors.WindowClosed) and caught.value.reason


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("error_5xx", errors.Retryable),
        ("rate_limit", errors.RateLimited),
        # The request was written and no answer came in time: it may have been sent.
        ("timeout", errors.Ambiguous),
        ("expired_token", errors.AuthFailed),
    ],
)
async def test_send_faults_are_classified(
    setup: Setup, fault: str, expected: type[Exception]
) -> None:
    await setup.sim.fault(fault, provider=setup.provider, endpoint="send", delay_s=2.5)
    with pytest.raises(expected) as caught:
        await setup.client.send(text())
    if fault == "rate_limit":
        assert isinstance(caught.value, errors.RateLimited) and caught.value.retry_after_s == 1.0
    await setup.client.send(text())  # the fault was for one call only


async def test_window_closed_fault(setup: Setup) -> None:
    await setup.sim.fault("window_closed", provider=setup.provider, endpoint="send")
    expected = errors.WindowClosed if setup.provider == "meta" else errors.Permanent
    with pytest.raises(expected):
        await setup.client.send(text())


async def test_slow_answer_within_the_timeout_still_succeeds(setup: Setup) -> None:
    await setup.sim.fault("slow", provider=setup.provider, endpoint="send", delay_s=0.3)
    assert (await setup.client.send(text())).provider_message_id


def media_ref(setup: Setup, media_id: str) -> MediaRef:
    if setup.provider == "zapi":
        return MediaRef(
            provider_ref=setup.sim.media_url(media_id), url=setup.sim.media_url(media_id)
        )
    if setup.provider == "evolution":
        return MediaRef(provider_ref=f"5511987654321@s.whatsapp.net/{media_id}")
    return MediaRef(provider_ref=media_id)


@pytest.mark.parametrize(
    "mime", ["image/jpeg", "video/mp4", "audio/ogg", "application/pdf", "image/webp"]
)
async def test_fetch_media_streams_the_exact_bytes(setup: Setup, mime: str) -> None:
    media_id = setup.sim.media_id(mime, 200_000, uuid.uuid4().hex[:6])
    digest = hashlib.sha256()
    async with setup.client.fetch_media(media_ref(setup, media_id)) as media:
        assert media.mime == mime and media.size == 200_000
        async for chunk in media.chunks:
            digest.update(chunk)
    assert digest.hexdigest() == setup.sim.expected_sha256(media_id)


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("error_5xx", errors.Retryable),
        ("rate_limit", errors.RateLimited),
        ("timeout", errors.Retryable),
        ("expired_token", errors.AuthFailed),
    ],
)
async def test_fetch_media_faults_are_classified(
    setup: Setup, fault: str, expected: type[Exception]
) -> None:
    endpoint = "media_info" if setup.provider == "meta" else "media"
    await setup.sim.fault(fault, provider=setup.provider, endpoint=endpoint, delay_s=2.5)
    with pytest.raises(expected):
        async with setup.client.fetch_media(media_ref(setup, setup.sim.media_id())) as media:
            async for _ in media.chunks:
                pass


async def test_meta_media_download_step_faults_are_classified(
    provider_sim: RunningSimulator, http: httpx.AsyncClient
) -> None:
    setup = await make("meta", provider_sim, http)
    await setup.sim.fault("error_5xx", provider="meta", endpoint="media")
    with pytest.raises(errors.Retryable):
        async with setup.client.fetch_media(MediaRef(provider_ref=setup.sim.media_id())):
            pass
    await setup.sim.aclose()


async def test_media_from_a_foreign_host_is_refused(
    provider_sim: RunningSimulator, http: httpx.AsyncClient
) -> None:
    setup = await make("zapi", provider_sim, http)
    with pytest.raises(errors.Permanent):
        async with setup.client.fetch_media(MediaRef(provider_ref="http://169.254.169.254/latest")):
            pass
    await setup.sim.aclose()


async def test_meta_upload_returns_a_media_id(
    provider_sim: RunningSimulator, http: httpx.AsyncClient
) -> None:
    setup = await make("meta", provider_sim, http)

    async def data() -> AsyncIterator[bytes]:
        yield b"\xff\xd8\xff" + b"x" * 1000

    media_id = await setup.client.upload_media(data(), "image/jpeg", "a.jpg")
    assert media_id and media_id.startswith("sim-")
    await setup.sim.aclose()


async def test_upload_is_none_where_links_are_used(setup: Setup) -> None:
    async def data() -> AsyncIterator[bytes]:
        yield b"x"

    if setup.provider != "meta":
        assert await setup.client.upload_media(data(), "image/jpeg", None) is None


async def test_health_reports_ok_and_then_auth_trouble(setup: Setup) -> None:
    assert (await setup.client.health()).ok
    await setup.sim.fault("expired_token", provider=setup.provider, endpoint="health")
    health = await setup.client.health()
    assert not health.ok and health.detail


async def test_wrong_credentials_are_auth_failures(
    provider_sim: RunningSimulator, http: httpx.AsyncClient
) -> None:
    for provider in PROVIDERS:
        setup = await make(provider, provider_sim, http)
        bad = {
            "meta": {"access_token": "wrong", "phone_number_id": setup.account},
            "evolution": {"api_key": "wrong", "instance": setup.account},
            "zapi": {"instance_id": setup.account, "token": "tok", "client_token": "wrong"},
        }[provider]
        with pytest.raises(errors.AuthFailed):
            await client(provider, bad, http, base_url=provider_sim.base_url).send(text())
        await setup.sim.aclose()


async def test_unreachable_provider_is_retryable() -> None:
    from simulator.server import free_port

    base_url = f"http://127.0.0.1:{free_port()}"  # allowed, but nothing listens there
    async with create_client(EgressPolicy.reaching(base_url), connect_s=2.0) as http:
        adapter = client("zapi", {"instance_id": "i", "token": "t"}, http, base_url=base_url)
        with pytest.raises(errors.Retryable):
            await adapter.send(text())
