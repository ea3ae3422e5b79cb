"""The one guarded client every provider call goes through (``providers.http.create_client``):
an internal listener that is not on the allow-list receives nothing, whether named by address,
by name, by a DNS answer, through an adapter's send or health, or through a redirect; the
allow-listed server is reached at the address that was checked, under its own host name."""

from collections.abc import Callable

import pytest

from contracts.outbound import OutboundText
from providers import probe
from providers.base import SendRequest
from providers.call import Call
from providers.egress import EgressPolicy, EgressRefused, parse_targets
from providers.errors import Permanent
from providers.http import create_client, perform
from providers.netguard import system_resolve
from providers.registry import client
from tests.providers.listener import listening

CREDENTIALS = {
    "meta": {"access_token": "t", "phone_number_id": "123"},
    "evolution": {"api_key": "k", "instance": "main"},
    "zapi": {"instance_id": "i", "token": "t", "client_token": "c"},
}


def resolver_mapping(names: dict[str, list[str]]) -> Callable[[str, int], object]:
    async def resolve(host: str, port: int) -> list[str]:
        return names[host] if host in names else await system_resolve(host, port)

    return resolve


@pytest.mark.parametrize("provider", ["meta", "evolution", "zapi"])
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"])
async def test_send_and_health_never_reach_a_loopback_listener_off_the_allow_list(
    provider: str, host: str
) -> None:
    async with listening() as internal, listening() as simulator:
        # Development settings: loopback only, plain http, one allowed port (another server's).
        policy = EgressPolicy.reaching(simulator.url)
        # The trailing '#' would cut the path an adapter appends, aiming at the listener's root.
        base = f"http://{host}:{internal.port}/#"
        async with create_client(policy, connect_s=2, read_s=2) as http:
            adapter = client(provider, CREDENTIALS[provider], http, base_url=base)
            with pytest.raises(EgressRefused, match="non-public address"):
                await adapter.send(SendRequest(to="5511999999999", content=OutboundText(body="x")))
            kind = probe.Provider(provider)
            summary = await probe.health(kind, CREDENTIALS[provider], http, base)
            assert summary.state is probe.State.REFUSED
            assert "internal-only" not in summary.detail
        assert internal.accepted == 0
        assert simulator.accepted == 0


async def test_a_dns_answer_naming_an_internal_address_is_refused_without_connecting() -> None:
    async with listening() as internal:
        resolve = resolver_mapping({"api.attacker.test": ["127.0.0.1"]})
        policy = EgressPolicy(allow_http=True)  # internet mode: the address rule alone
        async with create_client(policy, resolver=resolve) as http:  # type: ignore[arg-type]
            with pytest.raises(EgressRefused, match=r"non-public address \(127\.0\.0\.1\)"):
                await http.get(f"http://api.attacker.test:{internal.port}/")
        assert internal.accepted == 0


@pytest.mark.parametrize(
    "answer", [["169.254.169.254"], ["10.0.0.1"], ["93.184.216.34", "192.168.0.1"], ["::1"]]
)
async def test_internal_answers_are_refused_before_any_connection(answer: list[str]) -> None:
    resolve = resolver_mapping({"cdn.attacker.test": answer})
    async with create_client(EgressPolicy(), resolver=resolve) as http:  # type: ignore[arg-type]
        with pytest.raises(EgressRefused, match="non-public address"):
            await http.get("https://cdn.attacker.test/latest/meta-data/")


async def test_the_allowed_server_is_reached_at_the_checked_address_under_its_own_name() -> None:
    async with listening(body=b'{"id": "123"}') as provider:
        # A name on the allow-list, resolved once by the guard to the listener's address.
        resolve = resolver_mapping({"graph.provider.test": ["127.0.0.1"]})
        policy = EgressPolicy(parse_targets(f"graph.provider.test:{provider.port}"), True)
        async with create_client(policy, resolver=resolve) as http:  # type: ignore[arg-type]
            answer = await perform(
                http, Call("GET", f"http://graph.provider.test:{provider.port}/v23.0/123")
            )
        assert answer.status == 200
        assert provider.accepted == 1
        assert f"host: graph.provider.test:{provider.port}" in provider.heads[0].lower()


async def test_a_redirect_into_private_space_is_not_followed() -> None:
    async with listening() as internal:
        location = f"Location: {internal.url}/latest/meta-data/\r\n"
        async with listening(status=302, body=b"", headers=location) as provider:
            async with create_client(EgressPolicy.reaching(provider.url)) as http:
                with pytest.raises(Permanent, match="redirects are not followed"):
                    await perform(http, Call("GET", f"{provider.url}/v23.0/123"))
            assert provider.accepted == 1
        assert internal.accepted == 0


async def test_plain_http_is_refused_unless_allowed() -> None:
    async with listening() as server:
        allowed = EgressPolicy(parse_targets(f"127.0.0.1:{server.port}"), allow_http=False)
        async with create_client(allowed) as http:
            with pytest.raises(EgressRefused, match="plain http"):
                await http.get(f"{server.url}/")
        assert server.accepted == 0
