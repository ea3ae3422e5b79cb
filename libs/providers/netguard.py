"""The egress policy (``providers.egress``) enforced where connections are made: in the
network backend under httpx, so every request of a provider adapter goes through it.

Per request, the transport checks the scheme and (``PROVIDER_EGRESS=loopback``) that the host
is this machine, before any lookup. Per connection, the backend resolves the host once, checks
every address, and connects to a checked address: DNS cannot answer differently between the
check and the connection (rebinding). httpcore then starts TLS on that socket with the URL's
host name, so SNI, certificate verification and the Host header stay the provider's. A refused
call raises ``EgressRefused`` (a ``Permanent`` provider failure) before any packet leaves.
Redirects are never followed and proxies from the environment are ignored, so neither can
route around the check.
"""

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import httpcore
import httpx

from providers.egress import EgressPolicy, EgressRefused, check_addresses, check_request

Resolver = Callable[[str, int], Awaitable[list[str]]]

RESOLVE_TIMEOUT_S = 5.0


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
        policy: EgressPolicy,
        *,
        resolver: Resolver = system_resolve,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._policy = policy
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
        try:
            resolved = await self._resolve(host, port)
        except (OSError, TimeoutError) as exc:
            raise httpcore.ConnectError(f"could not resolve {host!r}") from exc
        addresses = check_addresses(host, port, resolved, self._policy)
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
        raise EgressRefused("unix sockets are never a provider")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, backend: GuardedBackend, policy: EgressPolicy, limits: httpx.Limits):
        super().__init__(limits=limits, trust_env=False)
        self._policy = policy
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
        url = request.url
        port = url.port or (443 if url.scheme == "https" else 80)
        check_request(url.scheme, url.host, port, self._policy)
        return await super().handle_async_request(request)


def guarded_transport(
    policy: EgressPolicy,
    limits: httpx.Limits,
    *,
    resolver: Resolver = system_resolve,
    inner: httpcore.AsyncNetworkBackend | None = None,
) -> GuardedTransport:
    backend = GuardedBackend(policy, resolver=resolver, inner=inner)
    return GuardedTransport(backend, policy, limits)
