"""ingest-api: the provider-facing HTTP edge. Routes only; the pipeline is ``receive``.

POST /webhooks/{provider}/{webhook_key}   one integration's webhooks     (``edge``: bare ASGI)
POST /webhooks/meta                       Meta app-level                 (``edge``: bare ASGI)
GET  /webhooks/{provider}/{webhook_key}   Meta's verification handshake  (FastAPI)
GET  /webhooks/meta                       its handshake                  (FastAPI)

/healthz /readyz /metrics are served on OPS_PORT only (``create_app(...).ops``), never here.
"""

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import SecretStr

from bus.publisher import Publisher, PublisherBase
from bus.rounds import RoundPublisher
from config import CredentialSettings, DatabaseSettings, KafkaSettings, load
from credentials import Vault
from db.pool import create_pool
from ingest.edge import WebhookEdge, problem, refusal
from ingest.errors import Refused, Unavailable
from ingest.readiness import broker_reachable, database_reachable
from ingest.receive import Receiver
from ingest.routing import RouteCache
from ingest.settings import IngestSettings
from telemetry.httpguard import public_config
from telemetry.ops import ops_app, serve_with_ops


async def _receiver(request: Request) -> Receiver:
    # ``async def``: FastAPI runs a plain ``def`` dependency in its threadpool.
    receiver: Receiver = request.app.state.receiver
    return receiver


ReceiverDep = Annotated[Receiver, Depends(_receiver)]


def create_app(
    settings: IngestSettings, db: DatabaseSettings, kafka: KafkaSettings, vault: Vault
) -> WebhookEdge:
    """The public app (webhooks); its ops app (``.ops``) is served on OPS_PORT beside it."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await create_pool(db)
        publisher: PublisherBase = (
            RoundPublisher(
                kafka,
                ack_timeout_s=settings.publish_timeout_s,
                linger_s=settings.publish_linger_ms / 1000,
            )
            if settings.publisher == "rounds"
            else Publisher(kafka, ack_timeout_s=settings.publish_timeout_s)
        )
        await publisher.start()
        app.state.receiver = Receiver(
            RouteCache(pool, vault, settings.route_cache_ttl_s),
            publisher,
            meta_app_secret=_secret(settings.meta_app_secret),
            meta_verify_token=_secret(settings.meta_verify_token),
        )

        async def ready() -> dict[str, bool]:
            return {
                "broker": await broker_reachable(kafka),
                "database": await database_reachable(pool),
            }

        app.state.ready = ready
        try:
            yield
        finally:
            await publisher.stop()
            await pool.close()

    app = FastAPI(title="ingest-api", lifespan=lifespan, docs_url=None, redoc_url=None)

    async def ready() -> dict[str, bool]:
        checks: dict[str, bool] = await app.state.ready()
        return checks

    app.add_exception_handler(Refused, _refused)  # type: ignore[arg-type]
    app.add_exception_handler(Unavailable, _unavailable)  # type: ignore[arg-type]

    @app.get("/webhooks/meta", response_class=PlainTextResponse)
    async def meta_app_handshake(request: Request, receiver: ReceiverDep) -> str:
        return await receiver.handshake("meta", None, request.query_params)

    @app.get("/webhooks/{provider}/{webhook_key}", response_class=PlainTextResponse)
    async def integration_handshake(
        provider: str, webhook_key: str, request: Request, receiver: ReceiverDep
    ) -> str:
        return await receiver.handshake(provider, webhook_key, request.query_params)

    def receiver() -> Receiver:
        built: Receiver = app.state.receiver
        return built

    return WebhookEdge(app, receiver, settings.max_body_bytes, ops_app(ready))


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


async def _refused(request: Request, exc: Refused) -> Response:
    body = refusal(str(request.path_params.get("provider", "meta")), exc)
    return Response(body, exc.status, media_type="application/problem+json")


async def _unavailable(request: Request, exc: Unavailable) -> Response:
    body = problem(exc.status, exc.code, str(exc))
    headers = {"retry-after": str(exc.retry_after_s)}
    return Response(body, exc.status, media_type="application/problem+json", headers=headers)


def serve(settings: IngestSettings) -> None:
    app = create_app(
        settings,
        load(DatabaseSettings),
        load(KafkaSettings),
        Vault.from_settings(load(CredentialSettings)),
    )
    # What exists by now (modules, the app) lives as long as the process: moved out of the
    # collector's generations, it is not traversed again by the collections that each
    # webhook's garbage triggers.
    gc.freeze()
    public = public_config(
        app,
        host=settings.api_host,
        port=settings.api_port,
        log_level="warning",
        # Per-request work nothing here reads: the access log (refusals log themselves) and
        # X-Forwarded-For (no decision depends on the client's address).
        access_log=False,
        proxy_headers=False,
    )
    asyncio.run(serve_with_ops(public, app.ops, settings.ops_port))
