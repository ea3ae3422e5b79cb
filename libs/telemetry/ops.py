"""The operations endpoints every process serves: ``/healthz`` (alive), ``/readyz`` (its
dependencies answer) and ``/metrics`` (Prometheus).

HTTP services mount ``ops_routes`` on their own app; workers (Kafka consumers) run
``serve_ops`` on ``OPS_PORT`` beside their consume loop, so Kubernetes probes and Prometheus
reach every process the same way.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator

import uvicorn
from fastapi import APIRouter, FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

ReadyCheck = Callable[[], Awaitable[dict[str, bool]]]


def ops_routes(ready: ReadyCheck) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
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


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that runs beside other work and leaves signals to its process, which
    decides when everything stops (uvicorn would otherwise take SIGTERM for itself)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_ops(port: int, ready: ReadyCheck, stop: asyncio.Event) -> None:
    """Serve the ops endpoints on 0.0.0.0:``port`` until ``stop`` is set."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(ops_routes(ready))
    server = EmbeddedServer(
        uvicorn.Config(app, host="0.0.0.0", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    await stop.wait()
    server.should_exit = True
    await task
