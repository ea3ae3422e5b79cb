"""One mark-as-read request: the provider's blue ticks for an inbound message. Nothing in our
rows changes (the gateway already reset the unread count); failures are logged and counted,
an expired token flags the integration, exhausted retries go to the dead-letter topic."""

import structlog

from bus.consumer import Received
from contracts import MarkReadRequested
from db.tenant import tenant_tx
from dispatcher import metrics, outcome, store
from dispatcher.deadletter import dead_letter
from dispatcher.deps import Deps
from dispatcher.failures import Failed, failed_for
from dispatcher.integration import open_integration
from providers.errors import AuthFailed, ProviderFailure, Retryable

log = structlog.get_logger(__name__)


async def handle_mark_read(deps: Deps, received: Received, event: MarkReadRequested) -> None:
    tenant_id = event.tenant_id
    provider = event.provider.value
    if tenant_id is None:
        await dead_letter(deps, received, "mark-read request without tenant_id", 1)
        return
    structlog.contextvars.bind_contextvars(tenant_id=str(tenant_id))
    async with tenant_tx(deps.pool, tenant_id) as conn:
        row = await store.load_integration(conn, integration_id=event.integration_id)
    ready = open_integration(deps, row)
    if isinstance(ready, Failed):
        log.info("mark-read dropped", reason=ready.error_reason)
        metrics.MARK_READS.labels(provider, "skipped_integration").inc()
        return

    async def attempt() -> None:
        await ready.client.mark_read(event.chat_id, event.provider_message_id)

    try:
        await deps.calls.run(
            provider=provider,
            integration_id=ready.id,
            rate_per_s=ready.rate_per_s,
            attempt=attempt,
        )
    except ProviderFailure as failure:
        failed = failed_for(failure)
        metrics.MARK_READS.labels(provider, f"failed_{failed.error_code}").inc()
        log.warning("mark-read failed", error_code=failed.error_code, error=failure.reason)
        if isinstance(failure, AuthFailed) and failed.integration_reason is not None:
            await outcome.flag_integration(
                deps, tenant_id=tenant_id, integration_id=ready.id, reason=failed.integration_reason
            )
        if isinstance(failure, Retryable):
            await dead_letter(deps, received, failure.reason, deps.calls.max_attempts)
        return
    metrics.MARK_READS.labels(provider, "ok").inc()
