"""The error answers a fault produces, in each provider's own error format.

Meta envelope: https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes
Evolution envelope ``{status, error, response: {message}}``: EvolutionAPI/evolution-api src/main.ts.
Z-API: ``{"error": ...}`` (https://developer.z-api.io/en/security/client-token).
"""

import asyncio

from fastapi.responses import JSONResponse, Response

from contracts.common import Provider
from simulator.state import Fault


def meta_error(
    status: int, code: int, title: str, details: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {
        "error": {
            "message": f"(#{code}) {title}",
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details},
            "fbtrace_id": "AsimFbTrace",
        }
    }
    return JSONResponse(body, status_code=status, headers=headers)


def evolution_error(
    status: int, message: object, headers: dict[str, str] | None = None
) -> JSONResponse:
    names = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests"}
    body = {
        "status": status,
        "error": names.get(status, "Internal Server Error"),
        "response": {"message": message},
    }
    return JSONResponse(body, status_code=status, headers=headers)


def zapi_error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def error(
    provider: Provider, status: int, kind: str, headers: dict[str, str] | None = None
) -> Response:
    if provider is Provider.META:
        codes = {
            "error_5xx": (131000, "Something went wrong", "Simulated server error"),
            "rate_limit": (
                130429,
                "Rate limit hit",
                "Cloud API message throughput has been reached.",
            ),
            "window_closed": (
                131047,
                "Re-engagement message",
                "More than 24 hours have passed since the recipient last replied "
                "to the sender number.",
            ),
            "expired_token": (
                190,
                "Error validating access token: Session has expired",
                "Access token expired",
            ),
            "timeout": (2, "Service temporarily unavailable", "Simulated timeout"),
        }
        code, title, details = codes[kind]
        return meta_error(status, code, title, details, headers)
    if provider is Provider.EVOLUTION:
        return evolution_error(status, f"simulated {kind}", headers)
    return zapi_error(status, f"simulated {kind}", headers)


async def answer(provider: Provider, fault: Fault) -> Response | None:
    """The faulty answer, or None when the fault only delays (``slow``)."""
    if fault.kind == "slow":
        await asyncio.sleep(fault.delay_s)
        return None
    if fault.kind == "timeout":
        await asyncio.sleep(fault.delay_s)
        return error(provider, 504, "timeout")
    if fault.kind == "rate_limit":
        headers = (
            {"Retry-After": str(int(fault.retry_after_s))}
            if fault.retry_after_s is not None
            else {}
        )
        return error(provider, 429, "rate_limit", headers)
    if fault.kind == "window_closed":
        return error(provider, 400, "window_closed")
    if fault.kind == "expired_token":
        return error(provider, 401, "expired_token")
    return error(provider, fault.status if fault.status >= 500 else 503, "error_5xx")
