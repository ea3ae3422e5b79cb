"""Webhook authentication: Meta's HMAC signature and handshake, Evolution's secret header,
Z-API's secret token (handed over by ingest as a header)."""

import time

import jwt
import pytest

from providers.base import Rejection, WebhookSecrets
from providers.meta.verify import handshake, sign
from providers.registry import codec, webhook_secrets
from tests.providers.payloads import fixture

BODY = fixture("meta", "message_text")


def test_meta_valid_signature_is_accepted() -> None:
    secrets = webhook_secrets("meta", {"app_secret": "s3cret"}, "vt")
    headers = {"x-hub-signature-256": sign(BODY, "s3cret")}
    assert codec("meta").verify(headers, BODY, secrets) is None


def test_meta_signature_is_over_raw_bytes_with_non_ascii() -> None:
    body = b'{"object":"whatsapp_business_account","x":"Ol\\u00e1 \\/ caf\\u00e9"}'
    headers = {"X-Hub-Signature-256": sign(body, "k")}
    assert codec("meta").verify(headers, body, WebhookSecrets(app_secret="k")) is None


@pytest.mark.parametrize(
    ("headers", "body", "secret"),
    [
        ({"X-Hub-Signature-256": sign(BODY, "s3cret")}, BODY + b" ", "s3cret"),  # tampered
        ({"X-Hub-Signature-256": sign(BODY, "other")}, BODY, "s3cret"),  # wrong secret
        ({}, BODY, "s3cret"),  # missing header
        ({"X-Hub-Signature-256": "sha256=zz"}, BODY, "s3cret"),  # garbage
        ({"X-Hub-Signature-256": sign(BODY, "s3cret")}, BODY, None),  # no secret configured
    ],
)
def test_meta_bad_signatures_are_rejected_401(
    headers: dict[str, str], body: bytes, secret: str | None
) -> None:
    result = codec("meta").verify(headers, body, WebhookSecrets(app_secret=secret))
    assert isinstance(result, Rejection) and result.status == 401


def test_meta_handshake_echoes_the_challenge() -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": "vt", "hub.challenge": "1158201444"}
    assert handshake(params, "vt") == "1158201444"


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"hub.mode": "subscribe", "hub.verify_token": "no", "hub.challenge": "1"}, 403),
        ({"hub.mode": "subscribe", "hub.challenge": "1"}, 403),
        ({"hub.mode": "unsubscribe", "hub.verify_token": "vt", "hub.challenge": "1"}, 400),
        ({"hub.mode": "subscribe", "hub.verify_token": "vt"}, 400),
    ],
)
def test_meta_handshake_refuses_wrong_requests(params: dict[str, str], status: int) -> None:
    result = handshake(params, "vt")
    assert isinstance(result, Rejection) and result.status == status


@pytest.mark.parametrize("provider", ["evolution", "zapi"])
def test_shared_secret_valid_is_accepted(provider: str) -> None:
    body = fixture(provider, "message_text")
    secrets = webhook_secrets(provider, {"webhook_secret": "w" * 32}, None)
    assert codec(provider).verify({"X-Webhook-Token": "w" * 32}, body, secrets) is None


@pytest.mark.parametrize("provider", ["evolution", "zapi"])
@pytest.mark.parametrize(
    ("headers", "secret"),
    [
        ({"X-Webhook-Token": "wrong"}, "w" * 32),
        ({}, "w" * 32),
        ({"X-Webhook-Token": "w" * 32}, None),
    ],
)
def test_shared_secret_wrong_missing_or_unset_is_rejected(
    provider: str, headers: dict[str, str], secret: str | None
) -> None:
    body = fixture(provider, "message_text")
    result = codec(provider).verify(headers, body, WebhookSecrets(webhook_secret=secret))
    assert isinstance(result, Rejection) and result.status == 401


def evolution_jwt(key: str, **claims: object) -> str:
    now = int(time.time())
    payload = {"iat": now, "exp": now + 600, "app": "evolution", "action": "webhook", **claims}
    return jwt.encode(payload, key, algorithm="HS256")


def test_evolution_jwt_from_jwt_key_is_accepted() -> None:
    headers = {"Authorization": f"Bearer {evolution_jwt('w' * 32)}"}
    body = fixture("evolution", "message_text")
    assert codec("evolution").verify(headers, body, WebhookSecrets(webhook_secret="w" * 32)) is None


@pytest.mark.parametrize(
    "token",
    [
        evolution_jwt("o" * 32),
        evolution_jwt("w" * 32, exp=int(time.time()) - 3600),
        evolution_jwt("w" * 32, app="someone-else"),
        "not.a.jwt",
    ],
)
def test_evolution_bad_jwt_is_rejected(token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    body = fixture("evolution", "message_text")
    result = codec("evolution").verify(headers, body, WebhookSecrets(webhook_secret="w" * 32))
    assert isinstance(result, Rejection) and result.status == 401
