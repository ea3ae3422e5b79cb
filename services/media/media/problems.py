"""HTTP errors of media-api as problem details (RFC 9457) with a stable ``code``."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers or {}


# What each problem status means, for the OpenAPI ``responses`` of the routes that answer it.
_DOCUMENTED: dict[int, str] = {
    400: "Not a multipart/form-data body with a file part",
    401: "No token, or a bad or expired one",
    403: "Not a member of the token's tenant",
    404: "No media for this message in the caller's tenant",
    409: "The attachment is still being fetched (media_pending) or failed (media_failed)",
    413: "Larger than WhatsApp allows for the kind",
    415: "A type WhatsApp does not send as the kind",
}


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for problem answers (``application/problem+json``)."""
    return {
        status: {"description": _DOCUMENTED[status], "content": {"application/problem+json": {}}}
        for status in statuses
    }


def not_found() -> ApiError:
    # The same answer for "no such message" and "another tenant's message": ids are not
    # confirmed to people outside their tenant.
    return ApiError(404, "not_found", "no media for this message")


def unauthorized(detail: str) -> ApiError:
    return ApiError(
        401, "unauthorized", detail, {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    )


def _response(exc: ApiError) -> JSONResponse:
    return JSONResponse(
        {
            "type": "about:blank",
            "title": exc.code,
            "status": exc.status,
            "code": exc.code,
            "detail": exc.detail,
        },
        status_code=exc.status,
        headers=exc.headers,
        media_type="application/problem+json",
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _problem(request: Request, exc: ApiError) -> JSONResponse:
        return _response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        where = "; ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors()[:5])
        return _response(ApiError(422, "invalid_request", f"invalid: {where}"))
