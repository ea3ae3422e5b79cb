"""HTTP errors as types, and the one handler that turns them into RFC 9457 problem details.

ApiError (status, stable ``code``)
├── Unauthorized      401 unauthorized: no token, bad token, not a member
├── Forbidden         403 forbidden: the role does not allow it
├── NotFound          404 not_found: missing, or another tenant's (indistinguishable)
├── Conflict          409 (e.g. idempotency_key_reused, integration_exists)
├── Unprocessable     422 (e.g. window_closed, invalid_media_key, reply_target_unknown)
└── Unavailable       503 (e.g. provider_health_unavailable)
"""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

PROBLEM_JSON = "application/problem+json"


class ApiError(Exception):
    status = 500
    code = "internal_error"
    title = "Internal error"

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code


class Unauthorized(ApiError):
    status, code, title = 401, "unauthorized", "Not authenticated"


class Forbidden(ApiError):
    status, code, title = 403, "forbidden", "Not allowed"


class NotFound(ApiError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(ApiError):
    status, code, title = 409, "conflict", "Conflict"


class Unprocessable(ApiError):
    status, code, title = 422, "unprocessable", "Request cannot be processed"


class Unavailable(ApiError):
    status, code, title = 503, "unavailable", "Temporarily unavailable"


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    body["code"] = code
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({**body, **extra}, status, headers=headers, media_type=PROBLEM_JSON)


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return problem(exc.status, exc.code, exc.title, exc.detail)


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", ""))} for e in exc.errors()]
    return problem(422, "validation_failed", "Invalid request", "see errors", errors=errors)


async def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return problem(exc.status_code, f"http_{exc.status_code}", "HTTP error", str(exc.detail))


# What each problem status means, for the OpenAPI ``responses`` of the routes that answer it.
_DOCUMENTED: dict[int, str] = {
    400: "The body could not be parsed (not JSON, or not UTF-8)",
    401: "No token, or a bad or expired one, or not a member of the tenant",
    403: "The caller's role does not allow it",
    404: "No such resource in the caller's tenant",
    409: "Conflicts with the current state (e.g. an idempotency key reused)",
}


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for problem answers (``application/problem+json``)."""
    return {
        status: {"description": _DOCUMENTED[status], "content": {PROBLEM_JSON: {}}}
        for status in statuses
    }


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
