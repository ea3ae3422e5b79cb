"""The media worker's HTTP client: the shared egress guard (``providers.netguard``: public
addresses only, resolved once and connected to the checked address, the allow-list aside) with
one more rule on top, checked per request: a fetch may reach only the hosts its provider owns.

A webhook chooses the media URL, so the adapter's hosts (``ProviderClient.media_hosts()``) are
set for the fetch in progress (``fetching_from``); outside a fetch nothing is reachable.
Checked per request rather than per connection, because a pooled connection opened for
another fetch skips the connect step but must not serve a host this fetch's provider does not
own. A refused request raises ``FetchRefused`` before any lookup.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import httpcore
import httpx

from media.errors import FetchRefused
from providers.egress import EgressPolicy, normal_host
from providers.netguard import Resolver, guarded_transport, system_resolve

_fetch_hosts: ContextVar[frozenset[str] | None] = ContextVar("media_fetch_hosts", default=None)


@contextmanager
def fetching_from(hosts: Iterable[str]) -> Iterator[None]:
    """Requests made inside this block (same task) may go to ``hosts`` only."""
    token = _fetch_hosts.set(frozenset(hosts))
    try:
        yield
    finally:
        _fetch_hosts.reset(token)


def check_host(host: str, allowed_hosts: Iterable[str]) -> None:
    """Raise ``FetchRefused`` unless ``host`` is one of the provider's media hosts."""
    if normal_host(host) not in {normal_host(h) for h in allowed_hosts if h}:
        raise FetchRefused(f"media host {host!r} is not one the provider owns")


class ProviderHostsOnly(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        allowed = _fetch_hosts.get()
        if allowed is None:
            raise FetchRefused("requests are made only while fetching a provider's media")
        check_host(request.url.host, allowed)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def guarded_client(
    policy: EgressPolicy,
    *,
    resolver: Resolver = system_resolve,
    inner: httpcore.AsyncNetworkBackend | None = None,
    connect_s: float = 5.0,
    read_s: float = 30.0,
    max_connections: int = 50,
) -> httpx.AsyncClient:
    """``policy`` is ``EgressSettings.policy()`` (PROVIDER_EGRESS, PROVIDER_EGRESS_ALLOW,
    PROVIDER_ALLOW_HTTP)."""
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=10)
    transport = guarded_transport(policy, limits, resolver=resolver, inner=inner)
    return httpx.AsyncClient(
        transport=ProviderHostsOnly(transport),
        timeout=httpx.Timeout(connect=connect_s, read=read_s, write=read_s, pool=connect_s),
        follow_redirects=False,
        trust_env=False,
    )
