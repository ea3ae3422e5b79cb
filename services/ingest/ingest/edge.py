"""The webhook POSTs as a bare ASGI app in front of FastAPI.

Providers post thousands of webhooks a second and each one needs only: the path, the headers,
the raw body and a short JSON answer. FastAPI's middleware, dependency solving and response
encoding cost more CPU per webhook than the whole verify → parse → publish pipeline
(``make bench``: ingest-api alone), so those two routes are answered here and everything else
(Meta's GET handshakes, the lifespan) falls through to the FastAPI app. A provider segment
that names no known provider is answered 404 at once (counted as ``unknown``).

POST /webhooks/meta                      Meta app-level (routed by phone_number_id)
POST /webhooks/{provider}/{webhook_key}  one integration's webhooks
"""

from collections.abc import Callable, Mapping

import orjson
import structlog
from fastapi import FastAPI
from opentelemetry.trace import SpanKind
from starlette.datastructures import QueryParams
from starlette.types import ASGIApp, Receive, Scope, Send

from ingest.errors import BodyTooLarge, Refused, Unavailable, UnknownIntegration
from ingest.metrics import REJECTIONS, UNKNOWN_PROVIDER, known_provider, provider_label
from ingest.receive import Receiver
from telemetry import tracing
from telemetry.trace import child

log = structlog.get_logger(__name__)

PREFIX = "/webhooks/"
_NO_QUERY: Mapping[str, str] = {}


def webhook_target(method: str, path: str) -> tuple[str, str | None] | None:
    """``(provider, webhook_key)`` for a webhook POST (key ``None``: Meta app-level), or
    ``None`` when the request is not one and belongs to the fallback app."""
    if method != "POST" or not path.startswith(PREFIX):
        return None
    parts = path[len(PREFIX) :].split("/")
    if parts == ["meta"]:
        return ("meta", None)
    if len(parts) == 2 and all(parts):
        return (parts[0], parts[1])
    return None


def problem(status: int, code: str, detail: str) -> bytes:
    return orjson.dumps(
        {
            "type": "about:blank",
            "title": code.replace("_", " "),
            "status": status,
            "code": code,
            "detail": detail,
        }
    )


def refusal(provider: str, exc: Refused) -> bytes:
    """Count and log a refused webhook; the problem document to answer with. ``provider`` is
    the URL's segment: anything but a known provider is counted and logged as ``unknown``."""
    label = provider_label(provider)
    REJECTIONS.labels(label, exc.code).inc()
    # Never the body, never a secret: the reason names only what was wrong.
    log.warning(
        "webhook refused", provider=label, code=exc.code, status=exc.status, reason=exc.reason
    )
    return problem(exc.status, exc.code, exc.reason)


_NO_SUCH_PROVIDER = problem(404, UnknownIntegration.code, "no such provider")


class WebhookEdge:
    def __init__(
        self,
        fallback: ASGIApp,
        receiver: Callable[[], Receiver],
        max_body_bytes: int,
        ops: FastAPI,
    ) -> None:
        self._fallback = fallback
        self._receiver = receiver  # built in the fallback's lifespan, so looked up per call
        self._max_body_bytes = max_body_bytes
        self.ops = ops  # /healthz /readyz /metrics, served on OPS_PORT by ``api.serve``

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = webhook_target(scope["method"], scope["path"]) if scope["type"] == "http" else None
        if target is None:
            await self._fallback(scope, receive, send)
            return
        provider, key = target
        # A plain dict: the pipeline reads several headers and ``Headers`` scans its list for
        # each. ASGI servers send names lower-cased; a repeated header keeps its last value.
        headers = {
            name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]
        }
        if not known_provider(provider):
            # Before the body is read or the database asked, and not logged (a flood of made-up
            # paths must cost nothing): counted under the one ``unknown`` label.
            REJECTIONS.labels(UNKNOWN_PROVIDER, UnknownIntegration.code).inc()
            await _answer(send, 404, _NO_SUCH_PROVIDER, problem=True)
            return
        if tracing.active:
            # The webhook's receipt starts the trace (or continues one the sender began).
            with tracing.span(
                f"webhook {provider}",
                parent=headers.get("traceparent") or "",
                kind=SpanKind.SERVER,
                attributes={"omni.provider": provider},
            ) as span:
                status = await self._webhook(
                    provider, key, headers, scope, receive, send, tracing.traceparent_of(span)
                )
                span.set_attribute("http.response.status_code", status)
            return
        await self._webhook(
            provider, key, headers, scope, receive, send, child(headers.get("traceparent"))
        )

    async def _webhook(
        self,
        provider: str,
        key: str | None,
        headers: Mapping[str, str],
        scope: Scope,
        receive: Receive,
        send: Send,
        trace: str,
    ) -> int:
        """Receive one webhook; the status answered."""
        try:
            body = await self._body(headers, receive)
            receiver = self._receiver()
            if key is None:
                count = await receiver.meta_app_webhook(headers, body, trace)
            else:
                raw_query = scope["query_string"]
                query = QueryParams(raw_query) if raw_query else _NO_QUERY
                count = await receiver.integration_webhook(
                    provider, key, headers, query, body, trace
                )
        except Refused as exc:
            await _answer(send, exc.status, refusal(provider, exc), problem=True)
            return exc.status
        except Unavailable as exc:
            body = problem(exc.status, exc.code, str(exc))
            await _answer(send, exc.status, body, problem=True, retry_after=str(exc.retry_after_s))
            return exc.status
        await _answer(send, 200, orjson.dumps({"status": "accepted", "events": count}))
        return 200

    async def _body(self, headers: Mapping[str, str], receive: Receive) -> bytes:
        """The raw body, refused with 413 as soon as it exceeds the limit (never read whole)."""
        limit = self._max_body_bytes
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise BodyTooLarge(f"body larger than {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise Refused("the client went away before sending the whole body")
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(f"body larger than {limit} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


async def _answer(
    send: Send, status: int, body: bytes, *, problem: bool = False, retry_after: str | None = None
) -> None:
    content_type = b"application/problem+json" if problem else b"application/json"
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    if retry_after is not None:
        headers.append((b"retry-after", retry_after.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
