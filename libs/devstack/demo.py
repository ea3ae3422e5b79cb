"""A tenant wired to the provider simulator: one integration per provider, in our database and
in the simulator, with the simulator posting signed webhooks to ingest-api and accepting the
dispatcher's sends. Used by ``omni dev``, the end-to-end tests and the benchmark."""

import secrets
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from contracts.common import Provider
from credentials import Vault
from db.provision import insert_integration
from simulator.control import SimControl


@dataclass(frozen=True)
class WiredIntegration:
    provider: Provider
    integration_id: UUID
    account_id: str
    webhook_url: str
    verify_token: str


def _credentials(
    provider: Provider, account: str, sim_url: str, token: str, secret: str
) -> dict[str, Any]:
    if provider is Provider.META:
        return {"access_token": token, "app_secret": secret, "phone_number_id": account}
    if provider is Provider.EVOLUTION:
        return {
            "api_key": token,
            "instance": account,
            "webhook_secret": secret,
            "base_url": sim_url,
        }
    return {
        "instance_id": account,
        "token": token,
        "client_token": secret,
        "webhook_secret": secret,
    }


async def wire_integration(
    conn: asyncpg.Connection,
    vault: Vault,
    sim: SimControl,
    *,
    tenant_id: UUID,
    provider: Provider,
    account_id: str,
    sim_url: str,
    ingest_url: str,
    status_delay_s: float = 0.0,
) -> WiredIntegration:
    """Create (as the owner, tenant set for the transaction) and register one integration.
    ``status_delay_s`` spaces the simulator's status webhooks (sent, delivered, read)."""
    token, secret = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    async with conn.transaction():
        await conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant_id))
        existing = await conn.fetchrow(
            "SELECT id, webhook_key, verify_token, credentials FROM integrations "
            "WHERE provider = $1 AND external_account_id = $2",
            provider.value,
            account_id,
        )
        if existing is None:
            row = await insert_integration(
                conn,
                vault,
                tenant_id=tenant_id,
                provider=provider.value,
                external_account_id=account_id,
                credentials=_credentials(provider, account_id, sim_url, token, secret),
                display_name=f"{provider.value} (simulator)",
                api_base_url=sim_url,
            )
            integration_id, key, verify = row["id"], row["webhook_key"], row["verify_token"]
        else:
            # Keep the stored secrets (the simulator forgot them when it restarted).
            creds = vault.open(existing["credentials"])
            token = creds.get("access_token") or creds.get("api_key") or creds.get("token", "")
            secret = creds.get("app_secret") or creds.get("webhook_secret", "")
            await conn.execute(
                "UPDATE integrations SET api_base_url = $2 WHERE id = $1", existing["id"], sim_url
            )
            integration_id, key = existing["id"], existing["webhook_key"]
            verify = existing["verify_token"]
    url = f"{ingest_url}/webhooks/{provider.value}/{key}"
    if provider is Provider.META:
        await sim.register(
            provider,
            account_id,
            webhook_url=url,
            app_secret=secret,
            access_token=token,
            status_delay_s=status_delay_s,
        )
    else:
        await sim.register(
            provider,
            account_id,
            webhook_url=url,
            webhook_secret=secret,
            access_token=token,
            client_token=secret,
            status_delay_s=status_delay_s,
        )
    return WiredIntegration(provider, integration_id, account_id, url, verify)


async def wire_demo(
    owner_url: str,
    vault: Vault,
    *,
    tenant_id: UUID,
    sim_url: str,
    ingest_url: str,
    account_prefix: str = "demo",
    status_delay_s: float = 0.0,
) -> list[WiredIntegration]:
    conn = await asyncpg.connect(owner_url)
    try:
        async with SimControl(sim_url) as sim:
            return [
                await wire_integration(
                    conn,
                    vault,
                    sim,
                    tenant_id=tenant_id,
                    provider=provider,
                    account_id=f"{account_prefix}-{provider.value}",
                    sim_url=sim_url,
                    ingest_url=ingest_url,
                    status_delay_s=status_delay_s,
                )
                for provider in Provider
            ]
    finally:
        await conn.close()
