"""The gateway's ASGI app: REST routers, the websocket route, ops endpoints, and the lifespan
that owns the pool, the producer, the realtime consumer (hub) and the HTTP client."""

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from auth.tokens import Verifier
from bus.publisher import Publisher
from credentials import Vault
from db.pool import create_pool
from providers.http import create_client
from realtime import errors
from realtime.api import conversations, integrations, messages
from realtime.deps import Resources
from realtime.hub import Hub
from realtime.settings import Config, GatewaySettings
from realtime.ws import websocket_endpoint
from telemetry.ops import ops_routes


def create_app(config: Config) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings = config.gateway
        pool = await create_pool(config.database)
        publisher = Publisher(config.kafka)
        await publisher.start()
        hub = Hub(pool, config.kafka, max_gap=max(10_000, settings.max_replay))
        await hub.start()
        stop = asyncio.Event()
        consume = asyncio.create_task(hub.run(stop))
        async with create_client(
            connect_s=settings.provider_timeout_s,
            read_s=settings.provider_timeout_s,
            egress=config.egress.egress,
        ) as http:
            app.state.resources = Resources(
                settings=settings,
                pool=pool,
                publisher=publisher,
                verifier=Verifier(config.auth),
                vault=Vault.from_settings(config.credentials),
                http=http,
                hub=hub,
            )
            app.state.consume = consume
            try:
                yield
            finally:
                stop.set()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(consume, timeout=5)
                await hub.stop()
                await publisher.stop()
                await pool.close()

    app = FastAPI(
        title="Omnichannel Realtime gateway",
        version="1",
        description="The agents' REST API; live updates on the websocket /v1/ws "
        "(see docs/websocket-protocol.md).",
        lifespan=lifespan,
    )
    errors.install(app)
    app.include_router(conversations.router)
    app.include_router(messages.router)
    app.include_router(integrations.router)
    app.add_api_websocket_route("/v1/ws", websocket_endpoint)

    async def ready() -> dict[str, bool]:
        resources: Resources = app.state.resources
        async with resources.pool.acquire() as conn:
            db_ok = await conn.fetchval("SELECT 1") == 1
        return {"postgres": db_ok, "realtime_consumer": not app.state.consume.done()}

    app.include_router(ops_routes(ready))
    web = web_dist()
    if web is not None:  # mounted last: /v1, /docs and the ops endpoints keep precedence
        app.mount("/", SinglePageApp(directory=web, html=True), name="web")
    return app


def web_dist() -> Path | None:
    """The built web inbox (``web/dist``): ``GATEWAY_WEB_DIR``, else the source tree's.
    Served at ``/`` on the API's origin when it exists; the API runs the same without it."""
    configured = os.environ.get("GATEWAY_WEB_DIR")
    source_tree = Path(__file__).resolve().parents[3] / "web" / "dist"
    folder = Path(configured) if configured else source_tree
    return folder if (folder / "index.html").is_file() else None


class SinglePageApp(StaticFiles):
    """The inbox's own paths (``/?c=…`` after a reload, deep links) get ``index.html``;
    unknown API paths stay 404."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code != 404 or path.startswith("v1/") or path == "v1":
                raise
            return await super().get_response("index.html", scope)


def server_config(app: FastAPI, settings: GatewaySettings, **overrides: object) -> uvicorn.Config:
    """uvicorn's websocket layer is python-websockets' sans-I/O protocol: it answers pings,
    enforces the maximum frame size and applies write backpressure that the pump relies on."""
    options: dict[str, object] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": "warning",
        "ws": "websockets-sansio",
        "ws_max_size": settings.max_frame_bytes,
        "ws_ping_interval": settings.ping_interval_s,
        "ws_ping_timeout": settings.ping_timeout_s,
        "ws_per_message_deflate": False,
        "timeout_graceful_shutdown": 10,
        **overrides,
    }
    return uvicorn.Config(app, **options)  # type: ignore[arg-type]
