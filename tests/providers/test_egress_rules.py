"""The egress rules (pure): public addresses only, the explicit allow-list aside; what a saved
base URL may be."""

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from media.errors import FetchRefused
from media.netguard import check_host
from providers.egress import (
    EgressPolicy,
    EgressRefused,
    Target,
    check_addresses,
    check_base_url,
    check_request,
    is_public,
    parse_targets,
)

NONE = EgressPolicy()


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
    with pytest.raises(EgressRefused):
        check_addresses("cdn.example", 443, [address], NONE)


@pytest.mark.parametrize(
    "address", ["157.240.1.1", "31.13.64.35", "2a03:2880:f12f:83:face:b00c::25de"]
)
def test_public_addresses_pass(address: str) -> None:
    expected = [str(ipaddress.ip_address(address))]
    assert check_addresses("lookaside.fbsbx.com", 443, [address], NONE) == expected


def test_one_private_answer_among_public_ones_refuses_the_host() -> None:
    with pytest.raises(EgressRefused):
        check_addresses("evil.example", 443, ["157.240.1.1", "10.0.0.1"], NONE)


def test_nothing_resolved_is_refused() -> None:
    with pytest.raises(EgressRefused):
        check_addresses("nowhere.example", 443, [], NONE)


def test_the_allow_list_is_for_its_host_and_port_only() -> None:
    allowed = EgressPolicy(parse_targets("127.0.0.1:9100, sim.local"))
    assert check_addresses("127.0.0.1", 9100, ["127.0.0.1"], allowed) == ["127.0.0.1"]
    assert check_addresses("sim.local", 1234, ["10.1.1.1"], allowed) == ["10.1.1.1"]
    with pytest.raises(EgressRefused):
        check_addresses("127.0.0.1", 5432, ["127.0.0.1"], allowed)
    with pytest.raises(EgressRefused):
        check_addresses("localhost", 9100, ["127.0.0.1"], allowed)


def test_parse_targets() -> None:
    assert parse_targets(" a.b:80 ,[::1]:9000, C.D ,") == {
        Target("a.b", 80),
        Target("::1", 9000),
        Target("c.d", None),
    }
    for bad in ("host:notaport", ":80", "host:0", "host:70000"):
        with pytest.raises(ValueError):
            parse_targets(bad)


def test_reaching_names_exactly_the_servers_given() -> None:
    policy = EgressPolicy.reaching("http://127.0.0.1:9100", "https://sim.test/")
    assert policy.allow == {Target("127.0.0.1", 9100), Target("sim.test", 443)}
    assert policy.allow_http and policy.loopback_only


def test_plain_http_and_other_schemes_need_the_setting() -> None:
    with pytest.raises(EgressRefused, match="plain http"):
        check_request("http", "graph.facebook.com", 80, NONE)
    with pytest.raises(EgressRefused):
        check_request("ftp", "graph.facebook.com", 21, EgressPolicy(allow_http=True))
    check_request("https", "graph.facebook.com", 443, NONE)
    check_request("http", "graph.facebook.com", 80, EgressPolicy(allow_http=True))


def test_loopback_confinement_refuses_other_hosts_before_any_lookup() -> None:
    confined = EgressPolicy(allow_http=True, loopback_only=True)
    check_request("http", "127.0.0.1", 80, confined)
    check_request("http", "localhost", 80, confined)
    with pytest.raises(EgressRefused, match="confined to this machine"):
        check_request("https", "graph.facebook.com", 443, confined)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://evo.example.com", "https"),
        ("file:///etc/passwd", "https"),
        ("gopher://evo.example.com", "https"),
        ("https://user:pw@evo.example.com", "user or password"),
        ("https://evo.example.com@169.254.169.254", "user or password"),
        ("https://evo.example.com/api?x=1", "query"),
        ("https://169.254.169.254/latest/meta-data#", "fragment"),
        ("https://evo.example.com/#", "fragment"),
        ("https://169.254.169.254", "not a public address"),
        ("https://[::ffff:10.0.0.1]", "not a public address"),
        ("https://127.0.0.1:8080", "not a public address"),
        ("https:///path", "no host"),
        ("https://evo.example.com:99999", "not a valid URL"),
    ],
)
def test_saved_base_urls_are_refused_with_the_reason(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        check_base_url(url, NONE)


def test_saved_base_urls_are_normalized() -> None:
    assert check_base_url(" HTTPS://Evo.Example.com/api/ ", NONE) == "https://evo.example.com/api"
    dev = EgressPolicy.reaching("http://127.0.0.1:9100")
    assert check_base_url("http://127.0.0.1:9100/", dev) == "http://127.0.0.1:9100"
    with pytest.raises(ValueError, match="not a public address"):
        check_base_url("http://127.0.0.1:9101", dev)


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
