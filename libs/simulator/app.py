"""The simulator's FastAPI application: control API first (its paths would otherwise match
Graph's ``/{version}/{id}``), then the provider APIs."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from simulator import control_api, driver, provider_api
from simulator.runtime import Runtime
from simulator.state import SimState
from telemetry.ops import ops_routes


async def _ready() -> dict[str, bool]:
    return {"simulator": True}


def create_app(base_url: str, state: SimState | None = None) -> FastAPI:
    sim_state = state or SimState()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Webhooks go to the URLs the developer registered (ingest-api on this machine): not a
        # provider call, so not the tenants' egress guard.
        timeout = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=5.0)
        # As many kept-alive connections as webhooks in flight (driver.IN_FLIGHT): with
        # httpx's default of 20, a burst of status webhooks opened and closed a connection
        # for every post beyond the twentieth.
        in_flight = driver.IN_FLIGHT
        limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
        async with httpx.AsyncClient(
            timeout=timeout, limits=limits, follow_redirects=False, trust_env=False
        ) as http:
            app.state.runtime = Runtime(sim_state, http, base_url.rstrip("/"))
            yield

    app = FastAPI(title="Omnichannel provider simulator", lifespan=lifespan)
    app.include_router(ops_routes(_ready))
    app.include_router(control_api.router)
    app.include_router(provider_api.router)
    return app
