"""ingest-api served in-process on a free port (uvicorn), and integrations registered both in
our database and in the provider simulator, so the simulator posts real signed webhooks."""

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from uuid import uuid4

import asyncpg
import uvicorn

from config.shared import DatabaseSettings, KafkaSettings
from contracts import Provider
from credentials import Vault
from devstack.process import free_port
from ingest.api import create_app
from ingest.settings import IngestSettings
from simulator.control import SimControl
from telemetry.ops import EmbeddedServer, ops_server
from tests.ingest.conftest import Integration, create_integration

META_APP_SECRET = secrets.token_urlsafe(16)


def api_settings(**overrides: object) -> IngestSettings:
    values: dict[str, object] = {
        "route_cache_ttl_s": 0.5,
        "max_body_bytes": 64 * 1024,
        "publish_timeout_s": 3.0,
        "META_APP_SECRET": META_APP_SECRET,
        "META_VERIFY_TOKEN": "app-verify-token",
    }
    return IngestSettings(**{**values, **overrides})  # type: ignore[arg-type]


@dataclass(frozen=True)
class Served:
    url: str  # the public port: webhooks
    ops_url: str  # OPS_PORT: /healthz /readyz /metrics


@asynccontextmanager
async def serving(
    settings: IngestSettings, db: DatabaseSettings, kafka: KafkaSettings, vault: Vault
) -> AsyncIterator[Served]:
    """ingest-api on 127.0.0.1:<free port>, its ops endpoints on another, until the block
    exits; yields both base URLs."""
    port = free_port()
    app = create_app(settings, db, kafka, vault)
    server = EmbeddedServer(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    ops_port = free_port()
    ops = ops_server(app.ops, ops_port, host="127.0.0.1")
    tasks = [asyncio.create_task(server.serve()), asyncio.create_task(ops.serve())]
    async with asyncio.timeout(20):
        while not (server.started and ops.started):  # noqa: ASYNC110 - uvicorn has no event
            await asyncio.sleep(0.05)
    try:
        yield Served(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{ops_port}")
    finally:
        server.should_exit = ops.should_exit = True
        await asyncio.gather(*tasks)


@dataclass(frozen=True)
class Wired:
    integ: Integration
    secret: str  # Meta app secret or Evolution/Z-API webhook secret
    url: str  # the integration's webhook URL on ingest-api


async def wire(
    owner_conn: asyncpg.Connection,
    vault: Vault,
    sim: SimControl,
    api_url: str,
    tenant_id: object,
    provider: Provider,
) -> Wired:
    """An integration in our database and the same one in the simulator, pointed at us."""
    secret = secrets.token_urlsafe(16)
    account = f"{provider.value}-{uuid4().hex[:10]}"
    credentials = (
        {"app_secret": secret, "access_token": "tok"}
        if provider is Provider.META
        else {"webhook_secret": secret, "api_key": "tok"}
    )
    integ = await create_integration(
        owner_conn, vault, tenant_id, provider.value, account, credentials
    )  # type: ignore[arg-type]
    url = f"{api_url}/webhooks/{provider.value}/{integ.webhook_key}"
    if provider is Provider.META:
        await sim.register(provider, account, webhook_url=url, app_secret=secret)
    else:
        await sim.register(provider, account, webhook_url=url, webhook_secret=secret)
    return Wired(integ, secret, url)
