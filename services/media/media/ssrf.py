"""Which connections a media fetch may open (pure): the SSRF rules.

A webhook (or a tenant's integration settings) chooses the URL a media fetch goes to, so the
fetch must not become a way into our network. A connection is allowed when

- its host is one the provider owns (``ProviderClient.media_hosts()``), and
- every address the host resolves to is globally routable: loopback, private (RFC 1918),
  link-local (169.254.0.0/16, where cloud metadata lives), unique-local, CGNAT, multicast,
  reserved and unspecified ranges are refused, IPv4-mapped IPv6 included;

except for the hosts named in ``MEDIA_ALLOWED_PRIVATE_HOSTS`` (the simulator in development and
tests), given as ``host`` or ``host:port``. The check runs on the resolved addresses and the
connection then goes to the checked address, so DNS cannot answer differently in between.
"""

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from media.errors import FetchRefused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Exemption:
    host: str
    port: int | None = None  # None: any port

    def covers(self, host: str, port: int) -> bool:
        return self.host == normal_host(host) and self.port in (None, port)


def normal_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def parse_exemptions(value: str) -> frozenset[Exemption]:
    """``"127.0.0.1:9100, sim.local"`` → exemptions; raises ValueError on a malformed entry."""
    out: set[Exemption] = set()
    for raw in value.split(","):
        entry = raw.strip()
        if not entry:
            continue
        host, port = entry, None
        if entry.startswith("["):  # [::1]:9100
            host, _, rest = entry[1:].partition("]")
            port = int(rest[1:]) if rest.startswith(":") else None
        elif entry.count(":") == 1:
            host, _, text = entry.partition(":")
            port = int(text)
        if not normal_host(host):
            raise ValueError(f"empty host in {entry!r}")
        out.add(Exemption(normal_host(host), port))
    return frozenset(out)


def is_public(address: IPAddress) -> bool:
    """True for an address on the public internet, False for anything internal or special."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return is_public(mapped)
        if address.teredo is not None:
            return False
    return address.is_global and not address.is_multicast


def check_host(host: str, allowed_hosts: Iterable[str]) -> None:
    """Raise ``FetchRefused`` unless ``host`` is one of the provider's media hosts."""
    if normal_host(host) not in {normal_host(h) for h in allowed_hosts if h}:
        raise FetchRefused(f"media host {host!r} is not one the provider owns")


def check_addresses(
    host: str, port: int, addresses: Iterable[str], exemptions: frozenset[Exemption]
) -> list[str]:
    """The addresses a connection to ``host:port`` may use; raises ``FetchRefused`` when any
    resolved address is not public (one bad answer is enough to refuse: an attacker's DNS may
    mix them) or when nothing resolved."""
    parsed = [ipaddress.ip_address(a.split("%", 1)[0]) for a in addresses]
    if not parsed:
        raise FetchRefused(f"media host {host!r} did not resolve")
    if any(e.covers(host, port) for e in exemptions):
        return [str(a) for a in parsed]
    for address in parsed:
        if not is_public(address):
            raise FetchRefused(
                f"media host {host!r} resolves to a non-public address ({address}); refused"
            )
    return [str(a) for a in parsed]
