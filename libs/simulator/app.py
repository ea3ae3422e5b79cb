"""The simulator's FastAPI application: control API first (its paths would otherwise match
Graph's ``/{version}/{id}``), then the provider APIs."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

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
        async with driver.webhook_session() as http:
            app.state.runtime = Runtime(sim_state, http, base_url.rstrip("/"))
            yield

    app = FastAPI(title="Omnichannel provider simulator", lifespan=lifespan)
    app.include_router(ops_routes(_ready))
    app.include_router(control_api.router)
    app.include_router(provider_api.router)
    return app
