"""media-api checks RS256 tokens against the identity provider's JWKS without blocking its
event loop: while one request waits on a key-set fetch, others are answered."""

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from uuid import uuid4

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from config.shared import AuthSettings, DatabaseSettings, S3Settings
from media.api import create_app
from media.settings import MediaSettings
from tests.media.servers import serving

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class SlowJwks:
    """A JWKS endpoint that holds each fetch until ``release`` is set."""

    def __init__(self) -> None:
        self.fetching = threading.Event()
        self.release = threading.Event()
        jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
        body = json.dumps({"keys": [jwk | {"kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.fetching.set()
                outer.release.wait(timeout=30)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/jwks.json"


@pytest.fixture
def jwks() -> Iterator[SlowJwks]:
    slow = SlowJwks()
    thread = threading.Thread(target=slow.server.serve_forever, daemon=True)
    thread.start()
    yield slow
    slow.release.set()
    slow.server.shutdown()
    thread.join()


async def test_a_jwks_fetch_does_not_block_other_requests(
    jwks: SlowJwks,
    db_settings: DatabaseSettings,
    s3_settings: S3Settings,
    make_tenant: Any,
) -> None:
    tenant_id = await make_tenant()
    auth = AuthSettings(algorithm="RS256", jwks_url=jwks.url, issuer="idp", audience="omni")
    now = int(time.time())
    claims = {"sub": "agent-1", "tenant_id": str(tenant_id), "iss": "idp", "aud": "omni"}
    token = jwt.encode(
        {**claims, "iat": now, "exp": now + 300}, KEY, algorithm="RS256", headers={"kid": "k1"}
    )
    app = create_app(MediaSettings(), auth, db_settings, s3_settings)
    async with (
        serving(app) as port,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as api,
    ):
        waiting = asyncio.create_task(
            api.get(f"/v1/media/{uuid4()}", headers={"Authorization": f"Bearer {token}"})
        )
        assert await asyncio.to_thread(jwks.fetching.wait, 30), "no JWKS fetch started"
        # The key set is still held back: another request is answered meanwhile.
        other = await api.get("/v1/media/x")
        assert other.status_code == 401
        assert not waiting.done() and not jwks.release.is_set()
        jwks.release.set()
        answer = await waiting
    assert answer.status_code == 404  # authenticated: no such message
