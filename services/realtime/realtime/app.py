"""The gateway's ASGI app: REST routers, the websocket route, the body cap, and the lifespan
that owns the pool, the producer, the realtime consumer (hub) and the HTTP client. Its ops
endpoints are an app of their own (``app.state.ops``), served on OPS_PORT only."""

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

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
from realtime.api import asyncapi, conversations, integrations, messages
from realtime.deps import Resources
from realtime.direct import keep_send
from realtime.hub import Hub
from realtime.protocol import CloseCode
from realtime.settings import Config, GatewaySettings
from realtime.ws import websocket_endpoint
from telemetry import liveness
from telemetry.bodycap import BodyCap
from telemetry.httpguard import public_config
from telemetry.ops import ops_app

# The reader polls every 200 ms; this long without a poll means it is stuck.
READER_STALL_S = 30.0


def _connection(scope: Scope) -> bool:
    return bool(scope["type"] == "websocket")


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
        # Without its reader the gateway is deaf: /healthz fails (the orchestrator restarts it)
        # and open websockets are told to reconnect and resume, on a gateway that hears.
        liveness.watch(hub.reader_name, consume, stall_s=READER_STALL_S)
        consume.add_done_callback(
            lambda _: (
                stop.is_set()
                or hub.close_all(
                    CloseCode.GOING_AWAY, "realtime reader stopped; reconnect and resume"
                )
            )
        )
        members = asyncio.create_task(hub.watch_members(stop, settings.membership_check_s))
        async with create_client(
            config.egress.policy(),
            connect_s=settings.provider_timeout_s,
            read_s=settings.provider_timeout_s,
        ) as http:
            app.state.resources = Resources(
                settings=settings,
                pool=pool,
                publisher=publisher,
                verifier=Verifier(config.auth),
                vault=Vault.from_settings(config.credentials),
                http=http,
                hub=hub,
                egress=config.egress.policy(),
            )
            app.state.consume = consume
            try:
                yield
            finally:
                stop.set()
                liveness.forget(hub.reader_name)
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.gather(consume, members), timeout=5)
                await hub.stop()
                await publisher.stop()
                await pool.close()

    app = FastAPI(
        title="Omnichannel Realtime gateway",
        version="1",
        description="The agents' REST API; live updates on the websocket /v1/ws "
        "(see docs/websocket-protocol.md).",
        lifespan=lifespan,
        # FastAPI traces each request itself once tracing is set up (telemetry.tracing): a
        # SERVER span named by its route, current while the route runs, so a send's events
        # take it as their parent. A websocket connection is no span: it lives for hours; its
        # frames are traced one by one (realtime.ws).
        telemetry={"exclude": _connection},
    )
    errors.install(app)
    app.include_router(conversations.router)
    app.include_router(messages.router)
    app.include_router(integrations.router)
    app.include_router(asyncapi.router)
    app.add_api_websocket_route("/v1/ws", websocket_endpoint)
    # Outermost: a body is refused before any other layer (or the token check) sees it.
    app.add_middleware(BodyCap, max_bytes=config.gateway.max_body_bytes)

    async def ready() -> dict[str, bool]:
        resources: Resources = app.state.resources
        async with resources.pool.acquire() as conn:
            db_ok = await conn.fetchval("SELECT 1") == 1
        return {"postgres": db_ok, "realtime_consumer": not app.state.consume.done()}

    app.state.ops = ops_app(ready)
    web = web_dist()
    if web is not None:  # mounted last: /v1, /docs and the websocket keep precedence
        app.mount("/", SinglePageApp(directory=web, html=True), name="web")
    return app


def web_dist() -> Path | None:
    """The built web inbox (``web/dist``): ``GATEWAY_WEB_DIR``, else the source tree's.
    Served at ``/`` on the API's origin when it exists; the API runs the same without it."""
    configured = os.environ.get("GATEWAY_WEB_DIR")
    source_tree = Path(__file__).resolve().parents[3] / "web" / "dist"
    folder = Path(configured) if configured else source_tree
    return folder if (folder / "index.html").is_file() else None


_NOT_THE_APP = frozenset({"v1", "healthz", "readyz", "metrics", "asyncapi", "asyncapi.json"})


class SinglePageApp(StaticFiles):
    """The inbox's own paths (``/?c=…`` after a reload, deep links) get ``index.html``;
    unknown API paths stay 404, and so do the ops paths, which live on the ops port only."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code != 404 or path.startswith("v1/") or path in _NOT_THE_APP:
                raise
            return await super().get_response("index.html", scope)


def server_config(app: FastAPI, settings: GatewaySettings, **overrides: Any) -> uvicorn.Config:
    """uvicorn's websocket layer is python-websockets' sans-I/O protocol: it answers pings,
    enforces the maximum frame size and applies write backpressure that the pump relies on.
    Compression (permessage-deflate) is the deployment's choice (``ws_compression``): it saves
    bandwidth to browsers on slow links and costs a compression per connection per frame; off,
    event frames are encoded once for all their subscribers (``realtime.direct``). A public
    port: ``telemetry.httpguard.public_config``."""
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": "warning",
        "ws": "websockets-sansio",
        "ws_max_size": settings.max_frame_bytes,
        "ws_ping_interval": settings.ping_interval_s,
        "ws_ping_timeout": settings.ping_timeout_s,
        "ws_per_message_deflate": settings.ws_compression,
        "timeout_graceful_shutdown": 10,
        **overrides,
    }
    return public_config(keep_send(app), **options)
