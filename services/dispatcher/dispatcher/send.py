"""One send request, start to finish: decide from the row, claim, call the provider with
retries, record the outcome. Never sends twice: the claim (``send_started_at``, committed
before the call) is released only when an attempt failed in a way that proves nothing was
sent (``Retryable``: nothing left, or the provider refused). A claim found standing is waited
on while younger than ``DISPATCHER_UNKNOWN_AFTER_S`` (its call may be in flight). An ambiguous
end (``Ambiguous``: the request was written and no answer says what became of it) and a claim
older than that bound both leave the message 'unknown' ("may have been sent"), with the claim
kept, so nothing sends it again; the provider's echo or status webhook moves it on later
(ingest-worker).
"""

import functools
import time
from uuid import UUID

import structlog
from opentelemetry.trace import SpanKind

from bus.consumer import Received
from contracts import OutboundMedia, SendRequested
from db.tenant import tenant_tx
from dispatcher import content, metrics, outcome, store
from dispatcher.deadletter import dead_letter
from dispatcher.decide import Decision, decide, state_of
from dispatcher.deps import Deps
from dispatcher.failures import Failed, failed_for, invalid_media, outcome_unknown
from dispatcher.inflight import await_claim
from dispatcher.integration import Ready, open_integration
from providers.base import SendRequest, SendResult
from providers.errors import ProviderFailure, Retryable
from telemetry import tracing

log = structlog.get_logger(__name__)


class ClaimLost(Exception):
    """Another attempt claimed or finished the message first: this one does nothing."""


async def handle_send(deps: Deps, received: Received, event: SendRequested) -> None:
    tenant_id = event.tenant_id
    if tenant_id is None:
        await dead_letter(deps, received, "send request without tenant_id", 1)
        return
    structlog.contextvars.bind_contextvars(
        tenant_id=str(tenant_id), message_id=str(event.message_id)
    )
    async with tenant_tx(deps.pool, tenant_id) as conn:
        row, integration_row = await store.load_send(conn, message_id=event.message_id)
    decision = decide(state_of(row), unknown_after_s=deps.unknown_after_s)
    provider = event.provider.value
    if decision is Decision.IN_FLIGHT:
        # Another attempt's claim stands: wait for its outcome rather than guess (inflight.py).
        decision = await await_claim(deps, tenant_id, event.message_id)
    if decision is Decision.IN_FLIGHT:
        metrics.SENDS.labels(provider, "skipped_claimed").inc()
        return
    if decision is Decision.MISSING:
        log.warning("send request for an unknown message; ignored")
        metrics.SENDS.labels(provider, "skipped_missing").inc()
        return
    if decision is Decision.DONE:
        metrics.SENDS.labels(provider, "skipped_done").inc()
        return
    assert row is not None
    integration_id: UUID = row["integration_id"]
    if decision is Decision.OUTCOME_UNKNOWN:
        unknown = functools.partial(store.mark_unknown_stale, older_than_s=deps.unknown_after_s)
        await _fail(deps, event, tenant_id, integration_id, outcome_unknown(), unknown)
        return
    ready = open_integration(deps, integration_row)
    if isinstance(ready, Failed):
        await _fail(deps, event, tenant_id, integration_id, ready)
        return
    request = await _request(deps, tenant_id, event)
    if isinstance(request, Failed):
        await _fail(deps, event, tenant_id, integration_id, request)
        return
    await _send(deps, received, event, tenant_id, ready, request)


async def _request(deps: Deps, tenant_id: UUID, event: SendRequested) -> SendRequest | Failed:
    media = None
    if isinstance(event.content, OutboundMedia):
        if not content.media_key_allowed(tenant_id, event.content):
            return invalid_media("The attachment does not belong to this workspace.")
        media = await deps.media.source(event.content.media_key, event.content.mime)
    return content.send_request(event, media)


async def _send(
    deps: Deps,
    received: Received,
    event: SendRequested,
    tenant_id: UUID,
    ready: Ready,
    request: SendRequest,
) -> None:
    provider = ready.provider.value

    async def attempt() -> SendResult:
        async with tenant_tx(deps.pool, tenant_id) as conn:
            if not await store.claim_send(conn, message_id=event.message_id):
                raise ClaimLost
        started = time.monotonic()
        try:
            with tracing.span(
                f"{provider} send",
                kind=SpanKind.CLIENT,
                attributes={"omni.provider": provider, "omni.message_id": str(event.message_id)},
            ):
                return await ready.client.send(request)
        except Retryable:
            # The provider answered (or never got) the call and said "not now": nothing was
            # sent, so the next attempt, here or after a crash, may claim it again. An
            # Ambiguous end keeps the claim: the message may be out there.
            async with tenant_tx(deps.pool, tenant_id) as conn:
                await store.release_send(conn, message_id=event.message_id)
            raise
        finally:
            metrics.SEND_LATENCY.labels(provider).observe(time.monotonic() - started)

    try:
        result = await deps.calls.run(
            provider=provider,
            integration_id=ready.id,
            rate_per_s=ready.rate_per_s,
            attempt=attempt,
        )
    except ClaimLost:
        metrics.SENDS.labels(provider, "skipped_claimed").inc()
        return
    except ProviderFailure as failure:
        failed = failed_for(failure)
        await _fail(deps, event, tenant_id, ready.id, failed)
        if isinstance(failure, Retryable):
            await dead_letter(
                deps, received, f"{failed.error_code}: {failure.reason}", deps.calls.max_attempts
            )
        return
    await outcome.record_sent(
        deps,
        tenant_id=tenant_id,
        message_id=event.message_id,
        provider_message_id=result.provider_message_id,
        traceparent=event.traceparent,
    )
    metrics.SENDS.labels(provider, "sent").inc()
    log.info("message sent", provider_message_id=result.provider_message_id)


async def _fail(
    deps: Deps,
    event: SendRequested,
    tenant_id: UUID,
    integration_id: UUID,
    failed: Failed,
    fail_query: store.FailQuery | None = None,
) -> None:
    await outcome.record_failed(
        deps,
        tenant_id=tenant_id,
        message_id=event.message_id,
        integration_id=integration_id,
        failed=failed,
        traceparent=event.traceparent,
        fail_query=fail_query,
    )
    outcome_label = "unknown" if failed.unknown else f"failed_{failed.error_code}"
    metrics.SENDS.labels(event.provider.value, outcome_label).inc()
    log.info(
        "message may have been sent" if failed.unknown else "message failed",
        error_code=failed.error_code,
    )
