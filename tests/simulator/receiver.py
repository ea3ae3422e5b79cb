"""A stand-in for ingest-api in the simulator tests: verifies each webhook with the real codec
(Z-API's ``?token=`` copied into the header, as ingest does) and keeps what it accepted."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request, Response

from providers.base import ParsedWebhook
from providers.registry import codec, webhook_secrets
from providers.secret import TOKEN_HEADER, ZAPI_QUERY_PARAM


@dataclass
class Received:
    accepted: list[tuple[str, ParsedWebhook]] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    changed: asyncio.Event | None = None


def create_receiver(secrets: dict[str, dict[str, Any]], received: Received) -> FastAPI:
    app = FastAPI()

    @app.post("/hook/{provider}")
    async def hook(provider: str, request: Request) -> Response:
        body = await request.body()
        headers = dict(request.headers)
        token = request.query_params.get(ZAPI_QUERY_PARAM)
        if token is not None:
            headers[TOKEN_HEADER] = token
        rejection = codec(provider).verify(
            headers, body, webhook_secrets(provider, secrets[provider], None)
        )
        if rejection is not None:
            received.rejected.append(rejection.reason)
            return Response(status_code=rejection.status)
        parsed = codec(provider).parse(body)
        if not isinstance(parsed, ParsedWebhook):
            received.rejected.append(parsed.reason)
            return Response(status_code=parsed.status)
        received.accepted.append((provider, parsed))
        return Response(status_code=200)

    return app


@contextmanager
def receiver(secrets: dict[str, dict[str, Any]]) -> Iterator[tuple[str, Received]]:
    import threading
    import time

    import uvicorn

    from simulator.server import free_port

    received = Received()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_receiver(secrets, received), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", received
    finally:
        server.should_exit = True
        thread.join(timeout=10)
