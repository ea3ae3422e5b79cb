"""PROVIDER_EGRESS=loopback: provider calls to anything but this machine are refused before any
lookup or connection; on this machine, only the allow-list is reachable."""

import httpx
import pytest

from providers.egress import EgressPolicy, is_loopback, parse_targets
from providers.errors import Permanent
from providers.http import create_client


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.9.9.9", True),
        ("localhost", True),
        ("[::1]", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("graph.facebook.com", False),
        ("10.0.0.1", False),
        ("169.254.169.254", False),
        ("localhost.evil.example", False),
        ("0.0.0.0", False),
    ],
)
def test_is_loopback(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected


async def test_a_confined_client_refuses_a_real_provider_host_without_connecting() -> None:
    async with create_client(EgressPolicy(allow_http=True, loopback_only=True)) as http:
        with pytest.raises(Permanent, match=r"graph\.facebook\.com"):
            await http.get("https://graph.facebook.com/v23.0/me")


async def test_a_confined_client_still_reaches_its_allowed_loopback_port() -> None:
    from devstack.process import free_port

    port = free_port()
    policy = EgressPolicy(parse_targets(f"127.0.0.1:{port}"), allow_http=True, loopback_only=True)
    async with create_client(policy, connect_s=1) as http:
        # Nothing listens there: the refusal comes from the OS, not from the guard.
        with pytest.raises(httpx.ConnectError):
            await http.get(f"http://127.0.0.1:{port}/")
