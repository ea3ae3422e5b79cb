"""Copy one attachment from its provider into the bucket and attach it to its message.

``attach`` is the whole unit of work for one ``MediaFetchRequested``: idempotent (a stored
attachment is never fetched again; a redelivery only re-publishes the realtime event its first
delivery recorded), transient provider failures retried a few times at once and then later,
over hours (``media.retries``), and any failure that is the file's or the provider's fault
ends in ``media_state = 'failed'`` with a reason, while the message stays visible. Failures
of our own infrastructure (database, bucket) propagate, and the consumer waits them out
(``bus.transient``).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import structlog
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from bus.publisher import Outgoing, Publisher
from contracts import MediaFetchRequested, MediaRef, MessageUpdated, topics
from credentials import CredentialError, Vault
from db import realtime_log
from db.snapshots import message_view
from db.tenant import tenant_tx
from media import metrics, persist, retries
from media.errors import FetchRefused, MediaRefused
from media.limits import MediaKind, check_size, kind_of, max_bytes
from media.netguard import fetching_from
from media.storage import ObjectStore
from media.transfer import StoredMedia, store_stream
from media.views import update_event_id
from providers.base import ProviderClient
from providers.errors import ProviderFailure, RateLimited, Retryable
from telemetry.tracing import child

log = structlog.get_logger(__name__)

# provider, decrypted credentials, the shared HTTP client, the integration's base URL → client
ClientFactory = Callable[[str, Mapping[str, Any], httpx.AsyncClient, str | None], ProviderClient]


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    initial_s: float = 0.5
    max_s: float = 10.0
    # Then, still transient: tried again later (media.retries), for as long as this.
    later_s: float = 60.0
    for_s: float = 7 * 24 * 3600.0


@dataclass(frozen=True)
class Attacher:
    """What the work needs; built once per process."""

    pool: asyncpg.Pool
    store: ObjectStore
    vault: Vault
    http: httpx.AsyncClient
    publisher: Publisher
    clients: ClientFactory
    retry: RetryPolicy = RetryPolicy()


@dataclass(frozen=True)
class Fetched:
    stored: StoredMedia
    filename: str | None


class _Transient(Exception):
    """A transport error that escaped the adapter: retried like ``Retryable``."""


async def attach(deps: Attacher, request: MediaFetchRequested) -> str:
    """Handle one fetch request; returns what happened (``stored``, ``failed``, ``skipped``)."""
    with metrics.FETCH_SECONDS.time():
        outcome = await _attach(deps, request)
    metrics.FETCHES.labels(outcome).inc()
    return outcome


async def _attach(deps: Attacher, request: MediaFetchRequested) -> str:
    tenant_id = request.tenant_id
    bound = log.bind(message_id=str(request.message_id), tenant_id=str(tenant_id))
    if tenant_id is None:
        bound.warning("fetch request without a tenant; ignored")
        return "skipped"
    async with tenant_tx(deps.pool, tenant_id) as conn:
        target = await persist.fetch_target(conn, message_id=request.message_id)
    if target is None:
        bound.warning("message not found in its tenant; ignored")
        return "skipped"
    if target["media_state"] == "stored":
        await _republish(deps, request, tenant_id)
        return "skipped"
    try:
        fetched = await _fetch_with_retries(deps, request, tenant_id, target)
    except (Retryable, _Transient) as exc:
        reason = _reason(exc)
        async with tenant_tx(deps.pool, tenant_id) as conn:
            later = await retries.schedule(
                conn,
                message_id=request.message_id,
                reason=reason,
                first_s=deps.retry.later_s,
                for_s=deps.retry.for_s,
            )
        if later:
            bound.warning("media not stored yet; tried again later", reason=reason)
            return "retry_later"
        bound.warning("media could not be stored in time", reason=reason)
        await _finish(deps, request, tenant_id, "failed", reason=reason)
        return "failed"
    except (ProviderFailure, MediaRefused, FetchRefused, CredentialError, KeyError) as exc:
        reason = _reason(exc)
        bound.warning("media could not be stored", reason=reason, error=type(exc).__name__)
        await _finish(deps, request, tenant_id, "failed", reason=reason)
        return "failed"
    await _finish(deps, request, tenant_id, "stored", fetched=fetched)
    metrics.FETCHED_BYTES.inc(fetched.stored.size)
    bound.info(
        "media stored",
        size=fetched.stored.size,
        mime=fetched.stored.mime,
        deduplicated=fetched.stored.already_stored,
    )
    return "stored"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ProviderFailure | MediaRefused | FetchRefused):
        return exc.reason
    if isinstance(exc, KeyError):
        return f"the integration's credentials lack {exc}"
    return str(exc)


async def _fetch_with_retries(
    deps: Attacher, request: MediaFetchRequested, tenant_id: UUID, target: asyncpg.Record
) -> Fetched:
    kind = kind_of(request.message_type.value)
    if kind is None:
        raise MediaRefused(f"a {request.message_type.value} message has no attachment")
    credentials = deps.vault.open(target["credentials"])
    client = deps.clients(target["provider"], credentials, deps.http, target["api_base_url"])
    policy = deps.retry
    retrying = AsyncRetrying(
        retry=retry_if_exception_type((Retryable, _Transient)),
        stop=stop_after_attempt(policy.attempts),
        wait=_wait(policy),
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            try:
                return await _fetch_once(deps, client, request.media, kind, tenant_id)
            except httpx.TransportError as exc:
                raise _Transient(f"media download broke off ({type(exc).__name__})") from exc
    raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover


def _wait(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    backoff = wait_exponential_jitter(multiplier=policy.initial_s, max=policy.max_s)

    def wait(state: RetryCallState) -> float:
        delay = backoff(state)
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, RateLimited) and error.retry_after_s is not None:
            delay = max(delay, min(error.retry_after_s, policy.max_s))
        return delay

    return wait


async def _fetch_once(
    deps: Attacher, client: ProviderClient, ref: MediaRef, kind: MediaKind, tenant_id: UUID
) -> Fetched:
    with fetching_from(client.media_hosts()):
        async with client.fetch_media(ref) as download:
            if download.size is not None:
                check_size(kind, download.size)  # refuse before reading a byte
            stored = await store_stream(
                deps.store,
                tenant_id,
                download.chunks,
                claimed_mime=download.mime or ref.mime,
                admit=lambda _mime: max_bytes(kind),
            )
            return Fetched(stored, download.filename or ref.filename)


async def _finish(
    deps: Attacher,
    request: MediaFetchRequested,
    tenant_id: UUID,
    state: str,
    *,
    fetched: Fetched | None = None,
    reason: str = "",
) -> None:
    """Write the outcome and its realtime event in one transaction, publish after commit."""
    async with tenant_tx(deps.pool, tenant_id) as conn:
        if fetched is not None:
            row = await persist.mark_stored(
                conn,
                message_id=request.message_id,
                key=fetched.stored.key,
                mime=fetched.stored.mime,
                size=fetched.stored.size,
                sha256=fetched.stored.sha256,
                filename=fetched.filename,
            )
        else:
            row = await persist.mark_failed(conn, message_id=request.message_id, reason=reason)
        if row is None:
            return  # stored meanwhile by another delivery: its event stands
        update = MessageUpdated(
            event_id=update_event_id(request.event_id, state),
            message=message_view(row),
            traceparent=child(request.traceparent),
        )
        events = await realtime_log.record(conn, tenant_id, [update])
    events = await realtime_log.numbered(deps.pool, events)
    await deps.publisher.publish_many(
        [Outgoing(topics.REALTIME, str(tenant_id), e) for e in events]
    )


async def _republish(deps: Attacher, request: MediaFetchRequested, tenant_id: UUID) -> None:
    """A redelivery may follow a crash between commit and publish: send the recorded event
    again (snapshots with cursors: applying one twice changes nothing)."""
    async with tenant_tx(deps.pool, tenant_id) as conn:
        payloads = await persist.recorded_payloads(
            conn,
            conversation_id=request.conversation_id,
            event_id=update_event_id(request.event_id, "stored"),
        )
    events = [MessageUpdated.model_validate(p) for p in payloads]
    if events:
        await deps.publisher.publish_many(
            [Outgoing(topics.REALTIME, str(tenant_id), e) for e in events]
        )
