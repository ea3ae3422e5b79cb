"""The operations endpoints every process serves: ``/healthz`` (alive: every loop the process
exists for is still turning, see ``telemetry.liveness``), ``/readyz`` (its dependencies
answer) and ``/metrics`` (Prometheus), on ``OPS_PORT`` only.

They never share the port of a public app (webhooks, the agents' API): an ingress in front of
that port would expose the metrics (tenant and traffic figures) and a readiness check that
reaches the broker and the database to anyone. Workers (Kafka consumers) run ``serve_ops``
beside their consume loop; HTTP services run their public app and ``ops_app`` side by side
with ``serve_with_ops``, so Kubernetes probes and Prometheus reach every process the same way.
"""

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Iterator

import uvicorn
from fastapi import APIRouter, FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from telemetry import liveness

ReadyCheck = Callable[[], Awaitable[dict[str, bool]]]


def ops_routes(ready: ReadyCheck) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz")
    async def healthz(response: Response) -> dict[str, object]:
        dead = liveness.problems()
        if dead:  # a loop this process exists for has stopped: restart it
            response.status_code = 503
            return {"status": "dead", "loops": dead}
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz(response: Response) -> dict[str, object]:
        try:
            checks = await asyncio.wait_for(ready(), timeout=3)
        except Exception:
            checks = {"checks": False}
        ok = all(checks.values())
        response.status_code = 200 if ok else 503
        return {"status": "ready" if ok else "not ready", "checks": checks}

    @router.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


def ops_app(ready: ReadyCheck) -> FastAPI:
    """The ops endpoints as an app of their own (no lifespan: the process's other work owns the
    resources ``ready`` checks; until they exist it answers 503)."""
    # Not traced: probes and scrapes every few seconds would bury the traces of real work
    # (FastAPI traces every app by itself once a tracer provider is set).
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, telemetry={"tracing": False})
    app.include_router(ops_routes(ready))
    return app


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that runs beside other work and leaves signals to its process, which
    decides when everything stops (uvicorn would otherwise take SIGTERM for itself)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def ops_server(app: FastAPI, port: int, host: str = "0.0.0.0") -> EmbeddedServer:
    return EmbeddedServer(
        uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
    )


async def serve_ops(port: int, ready: ReadyCheck, stop: asyncio.Event) -> None:
    """Serve the ops endpoints on 0.0.0.0:``port`` until ``stop`` is set."""
    server = ops_server(ops_app(ready), port)
    task = asyncio.create_task(server.serve())
    await stop.wait()
    server.should_exit = True
    await task


async def serve_with_ops(public: uvicorn.Config, ops: FastAPI, ops_port: int) -> None:
    """Serve a public app and its ops app (on ``ops_port``) until SIGTERM or SIGINT: the public
    server drains first (uvicorn's graceful shutdown, lifespan included), the ops server stops
    after it, so probes keep answering while requests finish."""
    server = EmbeddedServer(public)
    probes = ops_server(ops, ops_port)
    probes_task = asyncio.create_task(probes.serve())
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
    try:
        await server.serve()
    finally:
        probes.should_exit = True
        await probes_task
