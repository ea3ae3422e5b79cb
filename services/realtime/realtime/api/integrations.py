"""/v1/integrations (admins): connect a provider account, get the webhook URL and verify token
to paste into the provider's console, check its health. Credentials are write-only.

An integration is saved only once the provider confirmed its credentials control the account
(``api.integration_rules``); a change of credentials or base URL is confirmed the same way.
Health answers a category and a fixed sentence, never what the provider (or whatever the base
URL points at) answered."""

from typing import Any
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Response

from contracts.common import Provider
from db.provision import insert_integration
from db.tenant import savepoint
from providers import probe
from realtime.api import integration_rules as rules
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
        group_messages=row["group_messages"],
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
    """Verifies the credentials with the provider first: unverified credentials get the same
    422 whether or not the account is connected elsewhere. Only a caller who proved control of
    the account can get the 409 of an account already connected."""
    provider, account = body.provider, body.external_account_id
    base = rules.base_url(body.api_base_url, provider, deps.egress)
    creds = rules.credentials(provider, account, body.credentials)
    await rules.prove_ownership(provider, account, creds, deps.http, base)
    try:
        async with savepoint(tx.conn):  # a conflict leaves the request usable
            created = await insert_integration(
                tx.conn,
                deps.vault,
                tenant_id=tx.tenant_id,
                provider=provider.value,
                external_account_id=account,
                credentials=creds,
                display_name=body.display_name,
                api_base_url=base,
                rate_limit_per_s=body.rate_limit_per_s,
                group_messages=body.group_messages,
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
    current = await _find(tx, integration_id)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    changes = {k: v for k, v in changes.items() if v is not None or k == "display_name"}
    if "credentials" in changes or "api_base_url" in changes:
        # Where and as whom the provider is called changes: prove control of the account again.
        provider, account = Provider(current["provider"]), current["external_account_id"]
        base = rules.base_url(
            changes.get("api_base_url", current["api_base_url"]), provider, deps.egress
        )
        creds = changes.get("credentials")
        if creds is None:
            creds = deps.vault.open(await _sealed(tx, integration_id))
        creds = rules.credentials(provider, account, creds)
        await rules.prove_ownership(provider, account, creds, deps.http, base)
        changes |= {"api_base_url": base, "credentials": deps.vault.seal(creds)}
    try:
        async with savepoint(tx.conn):  # a conflict leaves the request usable
            row = await integrations.update(tx.conn, integration_id=integration_id, changes=changes)
    except asyncpg.UniqueViolationError:
        raise Conflict(
            "this provider account is already connected", code="integration_exists"
        ) from None
    assert row is not None
    return _out(row, deps.settings.ingest_public_url)


@router.delete("/{integration_id}", status_code=204)
async def delete_integration(integration_id: UUID, tx: AdminTx) -> Response:
    if not await integrations.delete(tx.conn, integration_id=integration_id):
        raise NotFound("no such integration")
    return Response(status_code=204)


async def _sealed(tx: AdminTx, integration_id: UUID) -> bytes:
    sealed = await integrations.sealed_credentials(tx.conn, integration_id=integration_id)
    if sealed is None:
        raise NotFound("no such integration")
    return sealed


@router.get("/{integration_id}/health")
async def integration_health(integration_id: UUID, tx: AdminTx, deps: Deps) -> HealthOut:
    """One read-only provider call with the stored credentials (never returned); the answer is
    a category and a fixed sentence, never the provider's body."""
    row = await _find(tx, integration_id)
    credentials = deps.vault.open(await _sealed(tx, integration_id))
    try:
        health = await probe.health(
            Provider(row["provider"]), credentials, deps.http, row["api_base_url"]
        )
    except (KeyError, ValueError) as exc:
        raise Unprocessable(
            f"the stored credentials lack {exc.args[0]!r}: PATCH the integration's credentials",
            code="credentials_incomplete",
        ) from None
    return HealthOut(ok=health.ok, state=health.state.value, detail=health.detail)
