"""Every provider error answer lands in the right failure class, with a readable reason."""

import json
from typing import Any

import pytest

from providers import errors
from providers.errors import ProviderFailure
from providers.evolution import build as evolution
from providers.meta import build as meta
from providers.zapi import build as zapi


def meta_body(code: int, details: str = "d") -> bytes:
    return json.dumps(
        {
            "error": {
                "message": f"(#{code}) t",
                "type": "OAuthException",
                "code": code,
                "error_data": {"details": details},
            }
        }
    ).encode()


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (401, 190, errors.AuthFailed),
        (403, 200, errors.AuthFailed),
        (400, 131031, errors.AuthFailed),
        (429, 130429, errors.RateLimited),
        (400, 131056, errors.RateLimited),
        (400, 80007, errors.RateLimited),
        (400, 4, errors.RateLimited),
        (400, 131047, errors.WindowClosed),
        (400, 131026, errors.Permanent),
        (400, 131009, errors.Permanent),
        (400, 100, errors.Permanent),
        (400, 132001, errors.Permanent),
        (500, 131000, errors.Retryable),
        (503, 131057, errors.Retryable),
        (500, 1, errors.Retryable),
    ],
)
def test_meta_codes(status: int, code: int, kind: type[ProviderFailure]) -> None:
    failure = meta.failure(status, meta_body(code, "why"), None)
    assert type(failure) is kind
    assert failure.code == str(code) and "why" in failure.reason


def test_meta_rate_limit_hint_prefers_retry_after_header() -> None:
    with_header = meta.failure(429, meta_body(130429), 7.0)
    pair = meta.failure(400, meta_body(131056), None)
    assert isinstance(with_header, errors.RateLimited) and with_header.retry_after_s == 7.0
    assert isinstance(pair, errors.RateLimited) and pair.retry_after_s == 4.0


def test_meta_window_closed_tells_the_agent_to_use_a_template() -> None:
    assert "template" in meta.failure(400, meta_body(131047), None).reason


def test_meta_bare_http_errors() -> None:
    assert type(meta.failure(502, b"<html>bad gateway</html>", None)) is errors.Retryable
    assert type(meta.failure(429, b"", 3.0)) is errors.RateLimited


def test_meta_send_answer_without_id_may_have_been_sent() -> None:
    with pytest.raises(errors.Ambiguous):
        meta.read_send_response(200, b'{"messages": []}', None)


def evo_body(status: int, message: Any) -> bytes:
    return json.dumps({"status": status, "error": "x", "response": {"message": message}}).encode()


@pytest.mark.parametrize(
    ("status", "message", "kind"),
    [
        (400, [{"exists": False, "jid": "000@s.whatsapp.net", "number": "000"}], errors.Permanent),
        (400, ["instance requires property 'webhook'"], errors.Permanent),
        (401, "Unauthorized", errors.AuthFailed),
        (403, "Forbidden", errors.AuthFailed),
        (404, ['The "x" instance does not exist'], errors.Permanent),
        (429, "slow down", errors.RateLimited),
        (500, "Connection Closed", errors.Retryable),
    ],
)
def test_evolution_statuses(status: int, message: Any, kind: type[ProviderFailure]) -> None:
    failure = evolution.failure(status, evo_body(status, message), None)
    assert type(failure) is kind and failure.reason


def test_evolution_not_on_whatsapp_reason_names_the_number() -> None:
    body = evo_body(400, [{"exists": False, "jid": "000@s.whatsapp.net", "number": "000"}])
    assert "000 is not on WhatsApp" in evolution.failure(400, body, None).reason


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (400, {"error": "null not allowed"}, errors.AuthFailed),
        (401, {"error": "Client-Token null not allowed"}, errors.AuthFailed),
        (400, {"error": "phone is invalid"}, errors.Permanent),
        (405, {}, errors.Permanent),
        (415, {}, errors.Permanent),
        (429, {}, errors.RateLimited),
        (500, {}, errors.Retryable),
        (504, {}, errors.Retryable),
    ],
)
def test_zapi_statuses(status: int, body: dict[str, Any], kind: type[ProviderFailure]) -> None:
    assert type(zapi.failure(status, json.dumps(body).encode(), None)) is kind


def test_zapi_error_inside_a_200_is_not_a_success() -> None:
    with pytest.raises(errors.AuthFailed):
        zapi.read_send_response(200, b'{"error": "null not allowed"}', None)
