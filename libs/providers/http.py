"""The shared HTTP client of a process and the one way adapters use it.

One pooled ``httpx.AsyncClient`` per process (created in the lifespan, closed there), explicit
connect/read timeouts, redirects never followed automatically (a provider redirecting us to a
host it does not own is how SSRF starts), response bodies read with a cap. Every connection
goes through the egress guard (``providers.netguard``): public addresses only, except an
explicit allow-list; https unless the policy allows http.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from providers.call import Call, retry_after
from providers.egress import EgressPolicy
from providers.errors import Permanent, Retryable
from providers.netguard import Resolver, guarded_transport, system_resolve

MAX_API_BODY = 1 * 1024 * 1024  # JSON answers of send/status/info calls
MAX_INLINE_MEDIA_BODY = 160 * 1024 * 1024  # Evolution's base64 media answer (100 MB * 4/3 + JSON)


def create_client(
    policy: EgressPolicy,
    *,
    connect_s: float = 5.0,
    read_s: float = 30.0,
    write_s: float = 30.0,
    pool_s: float = 5.0,
    max_connections: int = 100,
    resolver: Resolver = system_resolve,
) -> httpx.AsyncClient:
    """The guarded client; ``policy`` is ``EgressSettings.policy()`` in a service."""
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=20)
    return httpx.AsyncClient(
        transport=guarded_transport(policy, limits, resolver=resolver),
        timeout=httpx.Timeout(connect=connect_s, read=read_s, write=write_s, pool=pool_s),
        follow_redirects=False,
        trust_env=False,
    )


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: Mapping[str, str]

    @property
    def retry_after_s(self) -> float | None:
        return retry_after(self.headers)


async def read_capped(response: httpx.Response, limit: int) -> bytes:
    """The body, refusing (Permanent) once it grows past ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise Permanent(
                f"provider answer larger than {limit} bytes", status=response.status_code
            )
        chunks.append(chunk)
    return b"".join(chunks)


async def perform(http: httpx.AsyncClient, call: Call, limit: int = MAX_API_BODY) -> Answer:
    """Do ``call``; transport problems become ``Retryable``, redirects are refused."""
    try:
        request = http.build_request(
            call.method,
            call.url,
            json=call.json,
            headers=dict(call.headers),
            params=dict(call.params) or None,
        )
        response = await http.send(request, stream=True)
        try:
            if response.is_redirect:
                target = urlsplit(response.headers.get("location", "")).hostname
                raise Permanent(
                    f"provider redirected to {target}; redirects are not followed",
                    status=response.status_code,
                )
            body = await read_capped(response, limit)
        finally:
            await response.aclose()
    except httpx.TimeoutException as exc:
        raise Retryable(f"timed out calling the provider ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise Retryable(f"could not reach the provider ({type(exc).__name__})") from exc
    return Answer(response.status_code, body, dict(response.headers))


def host_of(url: str) -> str | None:
    return urlsplit(url).hostname
