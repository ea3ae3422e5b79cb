"""The SSRF rules: provider hosts only, public addresses only, named exemptions aside."""

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from media.errors import FetchRefused
from media.ssrf import Exemption, check_addresses, check_host, is_public, parse_exemptions

NONE: frozenset[Exemption] = frozenset()


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.1.2.3",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # CGNAT
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:169.254.169.254",
        "2002:a00:1::1",  # 6to4 wrapping 10.0.0.1
        "ff02::1",
    ],
)
def test_internal_addresses_are_refused(address: str) -> None:
    with pytest.raises(FetchRefused):
        check_addresses("cdn.example", 443, [address], NONE)


@pytest.mark.parametrize(
    "address", ["157.240.1.1", "31.13.64.35", "2a03:2880:f12f:83:face:b00c::25de"]
)
def test_public_addresses_pass(address: str) -> None:
    expected = [str(ipaddress.ip_address(address))]
    assert check_addresses("lookaside.fbsbx.com", 443, [address], NONE) == expected


def test_one_private_answer_among_public_ones_refuses_the_host() -> None:
    with pytest.raises(FetchRefused):
        check_addresses("evil.example", 443, ["157.240.1.1", "10.0.0.1"], NONE)


def test_nothing_resolved_is_refused() -> None:
    with pytest.raises(FetchRefused):
        check_addresses("nowhere.example", 443, [], NONE)


def test_exemption_is_for_its_host_and_port_only() -> None:
    exemptions = parse_exemptions("127.0.0.1:9100, sim.local")
    assert check_addresses("127.0.0.1", 9100, ["127.0.0.1"], exemptions) == ["127.0.0.1"]
    assert check_addresses("sim.local", 1234, ["10.1.1.1"], exemptions) == ["10.1.1.1"]
    with pytest.raises(FetchRefused):
        check_addresses("127.0.0.1", 5432, ["127.0.0.1"], exemptions)
    with pytest.raises(FetchRefused):
        check_addresses("localhost", 9100, ["127.0.0.1"], exemptions)


def test_parse_exemptions() -> None:
    assert parse_exemptions(" a.b:80 ,[::1]:9000, C.D ,") == {
        Exemption("a.b", 80),
        Exemption("::1", 9000),
        Exemption("c.d", None),
    }
    with pytest.raises(ValueError):
        parse_exemptions("host:notaport")


def test_hosts_must_be_the_providers() -> None:
    check_host("Lookaside.FBSBX.com.", {"lookaside.fbsbx.com"})
    with pytest.raises(FetchRefused):
        check_host("169.254.169.254", {"lookaside.fbsbx.com"})


@given(st.ip_addresses())
def test_is_public_agrees_with_the_standard_library_on_plain_addresses(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    if is_public(address):
        assert address.is_global
        assert not address.is_private and not address.is_loopback and not address.is_link_local
