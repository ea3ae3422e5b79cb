"""Where provider calls may go. ``PROVIDER_EGRESS=loopback`` confines every provider call
(sends, media fetches, health checks) to this machine: development and the test-suite talk
only to the simulator, so an integration without a simulator URL fails fast instead of
reaching a real provider. Deployments leave it at ``internet``.
"""

import ipaddress

import httpx

from providers.errors import Permanent

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


def is_loopback(host: str) -> bool:
    """True only for loopback names and literal loopback addresses (no DNS lookup)."""
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class LoopbackOnly(httpx.AsyncBaseTransport):
    """Refuses, before any lookup or connection, a request to a host that is not loopback."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not is_loopback(request.url.host):
            raise Permanent(
                f"provider calls are confined to this machine (PROVIDER_EGRESS=loopback); "
                f"refusing {request.url.host}"
            )
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def confine(transport: httpx.AsyncBaseTransport, egress: str) -> httpx.AsyncBaseTransport:
    return LoopbackOnly(transport) if egress == "loopback" else transport
