"""A SERVER span per HTTP request of an API, as ASGI middleware: added only when tracing is on
(``telemetry.tracing``), so an API without it pays nothing.

The span continues a ``traceparent`` header the caller sent, is current while the app handles
the request (events the request makes take their traceparent from it), and is named after the
route that matched (``POST /v1/conversations/{conversation_id}/messages``), never the raw path:
paths carry ids, and span names must stay few.
"""

from opentelemetry.trace import SpanKind
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from telemetry import tracing


class ServerSpans:
    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        method = scope["method"]
        parent = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"traceparent"), "")
        with tracing.span(method, parent=parent, kind=SpanKind.SERVER) as span:

            async def answer(message: Message) -> None:
                if message["type"] == "http.response.start":
                    span.set_attribute("http.response.status_code", message["status"])
                await send(message)

            try:
                await self._app(scope, receive, answer)
            finally:
                # The router put the matched route in the scope while handling it.
                route = getattr(scope.get("route"), "path", None)
                span.update_name(f"{method} {route or 'unmatched'}")
                if route:
                    span.set_attribute("http.route", route)
