"""The shared HTTP client of a process and the one way adapters use it.

One pooled ``httpx.AsyncClient`` per process (created in the lifespan, closed there), explicit
connect/read timeouts, redirects never followed automatically (a provider redirecting us to a
host it does not own is how SSRF starts), response bodies read with a cap. Every connection
goes through the egress guard (``providers.netguard``): public addresses only, except an
explicit allow-list; https unless the policy allows http.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from providers.call import Call, retry_after
from providers.egress import EgressPolicy
from providers.errors import Ambiguous, Permanent, ProviderFailure, Retryable, as_retryable
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
    # Keep as many connections alive as may be open: with fewer, a burst of sends beyond that
    # number opened a connection per call (a connect, plus the egress guard's resolve and
    # check) and closed it after.
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
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


# Failures that happen before a byte of the request can have reached the provider.
_BEFORE_SENDING = (
    httpx.ConnectError,  # refused, DNS, TLS handshake
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
)


class _Progress:
    """How far the request got, from httpcore's ``trace`` events: once the body is written the
    provider may act on it, whatever happens to the answer."""

    def __init__(self) -> None:
        self.traced = False
        self.written = False

    async def __call__(self, event: str, info: dict[str, Any]) -> None:
        self.traced = True
        if event.endswith("send_request_body.complete"):
            self.written = True


def _transport_failure(exc: httpx.TransportError, progress: _Progress) -> ProviderFailure:
    """Nothing left (connect error or timeout, no pooled connection free in time, or the
    request not completely written: a write timeout or error means the provider never had the
    whole body, so it cannot have acted on it) → ``Retryable``. Written, then a read timeout,
    reset or broken answer → ``Ambiguous``. A transport that reports no progress (not httpcore)
    is taken as written: only what certainly preceded sending may be retried."""
    name = type(exc).__name__
    sent = progress.written or not progress.traced
    if isinstance(exc, _BEFORE_SENDING) or not sent:
        return Retryable(f"could not reach the provider ({name}); nothing was sent")
    return Ambiguous(f"the request reached the provider but its answer did not arrive ({name})")


async def perform(
    http: httpx.AsyncClient,
    call: Call,
    limit: int = MAX_API_BODY,
    *,
    idempotent: bool | None = None,
) -> Answer:
    """Do ``call``; transport problems become ``Retryable`` (nothing was sent) or
    ``Ambiguous`` (the request was written, the answer never came), redirects are refused.
    ``idempotent`` (default: GET and HEAD) calls get ``Retryable`` for ambiguous ends too:
    doing them twice is harmless."""
    if idempotent is None:
        idempotent = call.method.upper() in ("GET", "HEAD")
    progress = _Progress()
    try:
        request = http.build_request(
            call.method,
            call.url,
            json=call.json,
            headers=dict(call.headers),
            params=dict(call.params) or None,
            extensions={"trace": progress},
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
    except httpx.TransportError as exc:
        failure = _transport_failure(exc, progress)
        if isinstance(failure, Ambiguous) and idempotent:
            raise as_retryable(failure) from exc
        raise failure from exc
    return Answer(response.status_code, body, dict(response.headers))


def host_of(url: str) -> str | None:
    return urlsplit(url).hostname
