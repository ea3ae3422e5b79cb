"""The media worker's HTTP client, with the SSRF rules (``media.ssrf``) enforced where
connections are made: in the network backend under httpx, so every request of a provider
adapter, the API call of Meta's two-step download included, goes through them.

Before connecting, the backend checks the host against the hosts of the fetch in progress
(``fetching_from``), resolves it, checks every address and connects to a checked address
(never resolving twice, so DNS rebinding cannot slip a private address in). A refused
connection raises ``FetchRefused`` before any packet leaves. Redirects are not followed and
proxies from the environment are ignored, so neither can route around the check.
"""

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

from media.errors import FetchRefused
from media.ssrf import Exemption, check_addresses, check_host
from providers.egress import confine

Resolver = Callable[[str, int], Awaitable[list[str]]]

RESOLVE_TIMEOUT_S = 5.0

_fetch_hosts: ContextVar[frozenset[str] | None] = ContextVar("media_fetch_hosts", default=None)


@contextmanager
def fetching_from(hosts: Iterable[str]) -> Iterator[None]:
    """Connections made inside this block (same task) may go to ``hosts`` only."""
    token = _fetch_hosts.set(frozenset(hosts))
    try:
        yield
    finally:
        _fetch_hosts.reset(token)


async def system_resolve(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await asyncio.wait_for(
        loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT_S
    )
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in addresses:
            addresses.append(address)
    return addresses


class GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(
        self,
        exemptions: frozenset[Exemption],
        *,
        resolver: Resolver = system_resolve,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._exemptions = exemptions
        self._resolve = resolver
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        allowed = _fetch_hosts.get()
        if allowed is None:
            raise FetchRefused("connections are made only while fetching a provider's media")
        check_host(host, allowed)
        try:
            resolved = await self._resolve(host, port)
        except (OSError, TimeoutError) as exc:
            raise httpcore.ConnectError(f"could not resolve {host!r}") from exc
        addresses = check_addresses(host, port, resolved, self._exemptions)
        error: Exception = httpcore.ConnectError(f"could not connect to {host!r}")
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise FetchRefused("unix sockets are never a media source")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, backend: GuardedBackend, limits: httpx.Limits) -> None:
        super().__init__(limits=limits, trust_env=False)
        # httpx 0.28 offers no way to hand its pool a network backend: build the same pool
        # it would, with ours.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # Checked per request too: a pooled connection opened for another fetch skips
        # connect_tcp, but must not serve a host this fetch's provider does not own.
        allowed = _fetch_hosts.get()
        if allowed is None:
            raise FetchRefused("requests are made only while fetching a provider's media")
        check_host(request.url.host, allowed)
        return await super().handle_async_request(request)


def guarded_client(
    exemptions: frozenset[Exemption],
    *,
    resolver: Resolver = system_resolve,
    inner: httpcore.AsyncNetworkBackend | None = None,
    connect_s: float = 5.0,
    read_s: float = 30.0,
    max_connections: int = 50,
    egress: str = "internet",
) -> httpx.AsyncClient:
    """``egress="loopback"`` (PROVIDER_EGRESS) refuses every non-loopback host first, before
    the guard resolves any name."""
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=10)
    backend = GuardedBackend(exemptions, resolver=resolver, inner=inner)
    return httpx.AsyncClient(
        transport=confine(GuardedTransport(backend, limits), egress),
        timeout=httpx.Timeout(connect=connect_s, read=read_s, write=read_s, pool=connect_s),
        follow_redirects=False,
        trust_env=False,
    )
