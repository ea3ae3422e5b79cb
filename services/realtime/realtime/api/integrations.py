"""/v1/integrations (admins): connect a provider account, get the webhook URL and verify token
to paste into the provider's console, check its health. Credentials are write-only."""

from typing import Any
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Response

from db.provision import insert_integration
from providers import registry
from providers.errors import ProviderFailure
from realtime.api.models import HealthOut, IntegrationOut, IntegrationPatch, NewIntegration
from realtime.deps import AdminTx, Deps
from realtime.errors import Conflict, NotFound, Unprocessable, documented
from realtime.store import integrations

router = APIRouter(
    prefix="/v1/integrations", tags=["integrations"], responses=documented(400, 401, 403, 404, 409)
)


def _out(row: asyncpg.Record, ingest_public_url: str) -> IntegrationOut:
    base = ingest_public_url.rstrip("/")
    return IntegrationOut(
        id=row["id"],
        provider=row["provider"],
        external_account_id=row["external_account_id"],
        display_name=row["display_name"],
        api_base_url=row["api_base_url"],
        rate_limit_per_s=row["rate_limit_per_s"],
        status=row["status"],
        status_reason=row["status_reason"],
        webhook_url=f"{base}/webhooks/{row['provider']}/{row['webhook_key']}",
        verify_token=row["verify_token"],
    )


async def _find(tx: AdminTx, integration_id: UUID) -> asyncpg.Record:
    row = await integrations.get(tx.conn, integration_id=integration_id)
    if row is None:
        raise NotFound("no such integration")
    return row


@router.get("")
async def list_integrations(tx: AdminTx, deps: Deps) -> list[IntegrationOut]:
    url = deps.settings.ingest_public_url
    return [_out(r, url) for r in await integrations.all_(tx.conn)]


@router.post("", status_code=201)
async def create_integration(body: NewIntegration, tx: AdminTx, deps: Deps) -> IntegrationOut:
    try:
        async with tx.conn.transaction():  # a savepoint: a conflict leaves the request usable
            created = await insert_integration(
                tx.conn,
                deps.vault,
                tenant_id=tx.tenant_id,
                provider=body.provider.value,
                external_account_id=body.external_account_id,
                credentials=body.credentials,
                display_name=body.display_name,
                api_base_url=body.api_base_url,
                rate_limit_per_s=body.rate_limit_per_s,
            )
    except asyncpg.UniqueViolationError:
        raise Conflict(
            "this provider account is already connected", code="integration_exists"
        ) from None
    return _out(await _find(tx, created["id"]), deps.settings.ingest_public_url)


@router.get("/{integration_id}")
async def get_integration(integration_id: UUID, tx: AdminTx, deps: Deps) -> IntegrationOut:
    return _out(await _find(tx, integration_id), deps.settings.ingest_public_url)


@router.patch("/{integration_id}")
async def patch_integration(
    integration_id: UUID, body: IntegrationPatch, tx: AdminTx, deps: Deps
) -> IntegrationOut:
    await _find(tx, integration_id)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    if changes.get("credentials") is not None:
        changes["credentials"] = deps.vault.seal(changes["credentials"])
    changes = {k: v for k, v in changes.items() if v is not None or k == "display_name"}
    row = await integrations.update(tx.conn, integration_id=integration_id, changes=changes)
    assert row is not None
    return _out(row, deps.settings.ingest_public_url)


@router.delete("/{integration_id}", status_code=204)
async def delete_integration(integration_id: UUID, tx: AdminTx) -> Response:
    if not await integrations.delete(tx.conn, integration_id=integration_id):
        raise NotFound("no such integration")
    return Response(status_code=204)


@router.get("/{integration_id}/health")
async def integration_health(integration_id: UUID, tx: AdminTx, deps: Deps) -> HealthOut:
    """Runs the provider's own health check with the stored credentials (never returned)."""
    row = await _find(tx, integration_id)
    sealed = await integrations.sealed_credentials(tx.conn, integration_id=integration_id)
    assert sealed is not None
    try:
        client = registry.client(
            row["provider"], deps.vault.open(sealed), deps.http, base_url=row["api_base_url"]
        )
    except KeyError as exc:
        raise Unprocessable(
            f"the stored credentials lack {exc.args[0]!r}: PATCH the integration's credentials",
            code="credentials_incomplete",
        ) from None
    try:
        health = await client.health()
    except ProviderFailure as exc:
        return HealthOut(ok=False, detail=exc.reason, account={})
    return HealthOut(ok=health.ok, detail=health.detail, account=dict(health.account))
