"""Where provider calls may go (pure rules; ``providers.netguard`` enforces them on sockets).

A tenant chooses addresses our processes connect to: an integration's ``api_base_url``, the
media URLs its provider hands out. So every provider call goes through one policy:

- only ``https``, unless ``PROVIDER_ALLOW_HTTP`` (development: the simulator speaks http);
- every address a host resolves to must be globally routable: loopback, private (RFC 1918),
  link-local (169.254.0.0/16, where cloud metadata lives), unique-local, CGNAT, multicast,
  reserved and unspecified ranges are refused, IPv4-mapped and 6to4 IPv6 included;
- except the targets named in ``PROVIDER_EGRESS_ALLOW`` (``host`` or ``host:port``, comma
  separated): the simulator in development and tests, a self-hosted Evolution server on a
  private network in a deployment. The allow-list is explicit: a loopback listener that is not
  on it receives nothing;
- ``PROVIDER_EGRESS=loopback`` additionally refuses every host that is not a loopback name or
  address before any lookup, so development never reaches a real provider.

``check_base_url`` holds the rules for a URL a tenant saves (scheme, no userinfo, no query, no
fragment: a trailing ``#`` would cut the path the adapter appends).
"""

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from providers.errors import Permanent

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


class EgressRefused(Permanent):
    """A provider call the egress policy does not allow; raised before any packet leaves."""


@dataclass(frozen=True)
class Target:
    host: str
    port: int | None = None  # None: any port

    def covers(self, host: str, port: int) -> bool:
        return self.host == normal_host(host) and self.port in (None, port)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port is None else f"{host}:{self.port}"


@dataclass(frozen=True)
class EgressPolicy:
    """What a process's provider calls may reach (built from ``EgressSettings``)."""

    allow: frozenset[Target] = frozenset()
    allow_http: bool = False
    loopback_only: bool = False

    def allowed(self, host: str, port: int) -> bool:
        return any(t.covers(host, port) for t in self.allow)

    @classmethod
    def reaching(cls, *urls: str, loopback_only: bool = True) -> "EgressPolicy":
        """A policy that reaches exactly these servers over http (tests, development)."""
        targets = set()
        for url in urls:
            parts = urlsplit(url)
            targets.add(Target(normal_host(parts.hostname or ""), parts.port or _default(url)))
        return cls(frozenset(targets), allow_http=True, loopback_only=loopback_only)


def _default(url: str) -> int:
    return 443 if url.lower().startswith("https:") else 80


def normal_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def parse_targets(value: str) -> frozenset[Target]:
    """``"127.0.0.1:9100, sim.local, [::1]:80"`` → targets; ValueError on a malformed entry."""
    out: set[Target] = set()
    for raw in value.split(","):
        entry = raw.strip()
        if not entry:
            continue
        host, port = entry, None
        try:
            if entry.startswith("["):  # [::1]:9100
                host, _, rest = entry[1:].partition("]")
                port = int(rest[1:]) if rest.startswith(":") else None
            elif entry.count(":") == 1:
                host, _, text = entry.partition(":")
                port = int(text)
        except ValueError:
            raise ValueError(f"bad port in {entry!r} (expected host or host:port)") from None
        if not normal_host(host) or (port is not None and not 0 < port < 65536):
            raise ValueError(f"bad entry {entry!r} (expected host or host:port)")
        out.add(Target(normal_host(host), port))
    return frozenset(out)


def is_loopback(host: str) -> bool:
    """True only for loopback names and literal loopback addresses (no DNS lookup)."""
    host = normal_host(host)
    if host in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def is_public(address: IPAddress) -> bool:
    """True for an address on the public internet, False for anything internal or special."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return is_public(mapped)
        if address.teredo is not None:
            return False
    return address.is_global and not address.is_multicast


def check_request(scheme: str, host: str, port: int, policy: EgressPolicy) -> None:
    """Before any lookup: the scheme, and the loopback confinement."""
    if scheme == "http" and not policy.allow_http:
        raise EgressRefused(f"plain http to {host!r} refused: provider calls use https")
    if scheme not in ("http", "https"):
        raise EgressRefused(f"scheme {scheme!r} refused: provider calls use https")
    if policy.loopback_only and not is_loopback(host):
        raise EgressRefused(
            f"provider calls are confined to this machine (PROVIDER_EGRESS=loopback); "
            f"refusing {host}"
        )


def check_addresses(
    host: str, port: int, addresses: Iterable[str], policy: EgressPolicy
) -> list[str]:
    """The addresses a connection to ``host:port`` may use. Refuses when any resolved address
    is not public (one bad answer is enough: an attacker's DNS may mix them) unless the target
    is allow-listed, or when nothing resolved."""
    parsed = [ipaddress.ip_address(a.split("%", 1)[0]) for a in addresses]
    if not parsed:
        raise EgressRefused(f"host {host!r} did not resolve")
    if policy.allowed(host, port):
        return [str(a) for a in parsed]
    for address in parsed:
        if not is_public(address):
            raise EgressRefused(
                f"host {host!r} resolves to a non-public address ({address}); refused"
            )
    return [str(a) for a in parsed]


def check_base_url(url: str, policy: EgressPolicy) -> str:
    """The URL a tenant saves as an integration's ``api_base_url``, normalized (lower-case
    scheme and host, no trailing slash), or ValueError saying what is wrong. Addresses are
    checked when a call is made (DNS may change); a literal address is checked here already."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"not a valid URL: {exc}") from None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in ("https", "http") or (scheme == "http" and not policy.allow_http):
        raise ValueError("the URL must use https")
    if not host:
        raise ValueError("the URL has no host")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValueError("the URL must not carry a user or password")
    if parts.query or "?" in text:
        raise ValueError("the URL must not have a query")
    if parts.fragment or "#" in text:
        raise ValueError("the URL must not have a fragment")
    effective_port = port or _default(scheme)
    try:
        literal = ipaddress.ip_address(normal_host(host))
    except ValueError:
        literal = None  # a name: its addresses are checked at each call
    if literal is not None and not policy.allowed(host, effective_port) and not is_public(literal):
        raise ValueError(f"{literal} is not a public address")
    try:
        check_request(scheme, host, effective_port, policy)
    except EgressRefused as exc:
        raise ValueError(exc.reason) from None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"
