"""RS256 tokens checked against a JWKS served by a local HTTP server (the identity provider)."""

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import orjson
import pytest
import websockets
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from websockets.exceptions import ConnectionClosed

from config.shared import AuthSettings
from devstack.stack import Endpoints
from realtime.protocol import CloseCode
from tests.realtime.conftest import connect, recv, running_gateway

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
    body = json.dumps({"keys": [jwk | {"kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    server.shutdown()
    thread.join()


def claims(tenant_id: object) -> dict[str, Any]:
    now = int(time.time())
    return {
        "sub": "agent-1",
        "tenant_id": str(tenant_id),
        "iss": "https://idp.test",
        "aud": "omni",
        "iat": now,
        "exp": now + 300,
    }


async def test_rs256_tokens_via_jwks_and_algorithm_confusion_refused(
    stack: Endpoints, jwks_url: str, make_tenant
) -> None:  # type: ignore[no-untyped-def]
    tenant_id = await make_tenant()
    auth = AuthSettings(
        algorithm="RS256", jwks_url=jwks_url, issuer="https://idp.test", audience="omni"
    )
    good = jwt.encode(claims(tenant_id), KEY, algorithm="RS256", headers={"kid": "k1"})
    wrong_key = jwt.encode(claims(tenant_id), OTHER_KEY, algorithm="RS256", headers={"kid": "k1"})
    public_pem = KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # HS256 signed with the public key as the secret: the classic algorithm-confusion forgery.
    confused = _hs256_with(public_pem, claims(tenant_id))
    async with running_gateway(stack, auth=auth) as gw:
        async with gw.http(good) as c:
            assert (await c.get("/v1/conversations")).status_code == 200
        for bad in (wrong_key, confused):
            async with gw.http(bad) as c:
                assert (await c.get("/v1/conversations")).status_code == 401
        ws, ready = await connect(gw, good)
        assert ready["tenant_id"] == str(tenant_id)
        await ws.close()
        async with websockets.connect(gw.ws_url) as ws:
            await ws.send(orjson.dumps({"type": "auth", "token": wrong_key}).decode())
            with pytest.raises(ConnectionClosed) as closed:
                await recv(ws)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == CloseCode.UNAUTHENTICATED


def _hs256_with(secret: bytes, payload: dict[str, Any]) -> str:
    """PyJWT refuses to sign HS256 with a PEM key, so build the forgery by hand."""

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    header = b64(orjson.dumps({"alg": "HS256", "typ": "JWT", "kid": "k1"}))
    body = b64(orjson.dumps(payload))
    signature = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{b64(signature)}"
