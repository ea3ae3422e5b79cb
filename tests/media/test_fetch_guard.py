"""A webhook cannot make the worker fetch internal URLs: media URLs whose host is (or resolves
to) a private, link-local or metadata address are refused and the media marked failed, before
any connection is attempted. No packet is ever sent to 10.x or 169.254.x here: the guard sits
in front of a recording network backend that would show any attempt."""

import dataclasses
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import asyncpg
import httpcore
import pytest

from contracts import MediaRef, MessageType, Provider
from credentials import Vault
from media.attach import Attacher, attach
from media.netguard import fetching_from, guarded_client
from providers.egress import EgressPolicy
from providers.netguard import system_resolve
from simulator.server import RunningSimulator
from tests.media import rows
from tests.media.conftest import credentials_for, sim_exemption

MakeTenant = Callable[..., Any]


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """The real network backend, with a log of every address it was asked to connect to."""

    def __init__(self) -> None:
        self.attempts: list[tuple[str, int]] = []
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.attempts.append((host, port))
        return await self._inner.connect_tcp(host, port, timeout=timeout)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


# Names an attacker's DNS would answer with internal addresses.
FAKE_DNS = {
    "cdn.attacker.test": ["10.0.0.1"],
    "metadata.attacker.test": ["169.254.169.254"],
    "mixed.attacker.test": ["93.184.216.34", "10.0.0.1"],
}


async def fake_dns(host: str, port: int) -> list[str]:
    if host in FAKE_DNS:
        return FAKE_DNS[host]
    return await system_resolve(host, port)


@pytest.fixture
async def recorded(
    attacher: Attacher, media_sim: RunningSimulator
) -> AsyncIterator[tuple[Attacher, RecordingBackend]]:
    backend = RecordingBackend()
    # Internet mode (no loopback confinement): the address rule alone must refuse them.
    policy = EgressPolicy.reaching(media_sim.base_url, loopback_only=False)
    http = guarded_client(policy, resolver=fake_dns, inner=backend)
    try:
        yield dataclasses.replace(attacher, http=http), backend
    finally:
        await http.aclose()


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://10.0.0.1/media/photo.jpg",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "http://cdn.attacker.test/photo.jpg",
        "http://metadata.attacker.test/latest/meta-data/",
        "http://mixed.attacker.test/photo.jpg",
    ],
)
async def test_internal_media_urls_are_refused_and_marked_failed_without_connecting(
    recorded: tuple[Attacher, RecordingBackend],
    app_pool: asyncpg.Pool,
    vault: Vault,
    make_tenant: MakeTenant,
    url: str,
) -> None:
    deps, backend = recorded
    tenant_id = await make_tenant()
    # The integration's own base URL names the internal host, so the provider-host rule lets it
    # through and only the address rule stands between the URL and the network.
    base = url.split("/", 3)
    integration_id = await rows.integration(
        app_pool,
        vault,
        tenant_id,
        provider=Provider.ZAPI,
        base_url="/".join(base[:3]),
        credentials=credentials_for("zapi", "instance-1"),
    )
    inbound = await rows.inbound_media(
        app_pool,
        tenant_id,
        integration_id,
        provider=Provider.ZAPI,
        message_type=MessageType.IMAGE,
        ref=MediaRef(provider_ref=url, url=url),
    )

    assert await attach(deps, inbound.request()) == "failed"

    row = await rows.message_row(app_pool, tenant_id, inbound.message_id)
    assert row["media_state"] == "failed"
    assert "non-public address" in row["media_error"]
    assert backend.attempts == []


async def test_a_host_the_provider_does_not_own_is_refused_before_resolving(
    recorded: tuple[Attacher, RecordingBackend], media_sim: RunningSimulator
) -> None:
    deps, backend = recorded
    with (
        fetching_from({"lookaside.fbsbx.com"}),
        pytest.raises(Exception, match="not one the provider owns"),
    ):
        await deps.http.get(f"{media_sim.base_url}/_sim/media/sim-jpg-10-x")
    assert backend.attempts == []


async def test_no_connection_outside_a_fetch(
    recorded: tuple[Attacher, RecordingBackend], media_sim: RunningSimulator
) -> None:
    deps, backend = recorded
    with pytest.raises(Exception, match="only while fetching"):
        await deps.http.get(f"{media_sim.base_url}/_sim/media/sim-jpg-10-x")
    assert backend.attempts == []


async def test_the_allowed_simulator_is_reached_at_its_checked_address(
    recorded: tuple[Attacher, RecordingBackend], media_sim: RunningSimulator
) -> None:
    deps, backend = recorded
    with fetching_from({"127.0.0.1"}):
        response = await deps.http.get(f"{media_sim.base_url}/_sim/media/sim-jpg-10-ok")
    assert response.status_code == 200
    assert backend.attempts == [("127.0.0.1", int(sim_exemption(media_sim).split(":")[1]))]
