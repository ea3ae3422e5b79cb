"""OpenTelemetry tracing: spans exported over OTLP/HTTP, off unless an endpoint is configured.

``setup`` installs the SDK only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or the traces-only
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) is set and ``OTEL_SDK_DISABLED`` is not true. Until
then ``active`` is False and every hot path (the publishers, the hub's dispatch, the websocket
writer) tests that one attribute and does nothing more, so tracing off costs one attribute read.

The W3C ``traceparent`` strings this project already carries (``telemetry.trace``) are the
spans' context: a span starts from a traceparent (a Kafka header, an HTTP header, an event's
field) and hands its own traceparent on. Consumers that handle a batch start one span per
record and register them here (``Handling``), so ``child`` can give each event made during the
batch the traceparent of the span that handled its record, by trace id.
"""

import contextvars
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from opentelemetry import trace as otel
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from config.shared import TraceSettings
from telemetry import trace

Attributes = Mapping[str, Any]

active = False  # read by hot paths before anything else
_tracer: otel.Tracer = otel.NoOpTracer()
_propagator = TraceContextTextMapPropagator()
# The spans of the records being handled in this context, by trace id (hex).
_handling: contextvars.ContextVar[dict[str, Span] | None] = contextvars.ContextVar(
    "omni_tracing_handling", default=None
)


def setup(settings: TraceSettings, service: str) -> bool:
    """Install the SDK and its OTLP/HTTP exporter when configured; whether tracing is on.
    Spans are exported in batches from a thread of the SDK, and flushed at exit."""
    global active, _tracer
    endpoint = settings.traces_endpoint()
    if endpoint is None:
        return False
    # Imported here: a process with tracing off never loads the SDK.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    otel.set_tracer_provider(provider)
    _tracer = provider.get_tracer("omni")
    active = True
    return True


def context_of(traceparent: str | None) -> Context | None:
    """The context a span continues: the remote parent named by ``traceparent``; ``None``
    (a new trace) when there is none or it is malformed."""
    if not traceparent:
        return None
    context = _propagator.extract({"traceparent": traceparent})
    return context if otel.get_current_span(context).get_span_context().is_valid else None


def start(
    name: str,
    *,
    parent: str | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Attributes | None = None,
) -> Span:
    """A span under ``parent`` (a traceparent; a new trace when it is empty or malformed), or
    under the current span when ``parent`` is None; the caller ends it."""
    context = (context_of(parent) or Context()) if parent is not None else None
    return _tracer.start_span(name, context=context, kind=kind, attributes=attributes)


@contextmanager
def span(
    name: str,
    *,
    parent: str | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Attributes | None = None,
) -> Iterator[Span]:
    """``start`` as the current span for the block, ended (with the error, if any) after it."""
    started = start(name, parent=parent, kind=kind, attributes=attributes)
    with otel.use_span(started, end_on_exit=True, record_exception=True):
        yield started


def traceparent_of(span: Span) -> str:
    ctx = span.get_span_context()
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}"


def current_traceparent() -> str | None:
    """The current span's traceparent; None with tracing off or outside a span."""
    if not active:
        return None
    current = otel.get_current_span()
    return traceparent_of(current) if current.get_span_context().is_valid else None


def child(traceparent: str | None) -> str:
    """The traceparent for an event made while handling something of ``traceparent``'s trace:
    the span handling it (a batch's record span, or the current span of that trace), so the
    trace shows which unit of work made the event; ``trace.child`` without one."""
    if active:
        found = _handling_span(traceparent)
        if found is not None:
            return traceparent_of(found)
    return trace.child(traceparent)


def _handling_span(traceparent: str | None) -> Span | None:
    trace_id = trace.trace_id(traceparent)
    if trace_id is None:
        return None
    spans = _handling.get()
    if spans is not None and trace_id in spans:
        return spans[trace_id]
    current = otel.get_current_span()
    ctx = current.get_span_context()
    return current if ctx.is_valid and f"{ctx.trace_id:032x}" == trace_id else None


def link(traceparent: str | None, to: str | None, attributes: Attributes | None = None) -> None:
    """Link the span handling ``traceparent``'s record to the span ``to`` names, in another
    trace (a status webhook's span to the send it reports on): nothing with tracing off or
    either one unknown."""
    if not (active and to):
        return
    span = _handling_span(traceparent)
    target = otel.get_current_span(context_of(to)).get_span_context() if span else None
    if span is not None and target is not None and target.is_valid:
        span.add_link(target, attributes)


def end(spans: Sequence[Span], error: BaseException | None = None) -> None:
    for one in spans:
        if error is not None:
            one.record_exception(error)
            one.set_status(Status(StatusCode.ERROR, repr(error)[:200]))
        one.end()


class Handling:
    """One span per record of a batch, each continuing its record's trace, registered for
    ``child`` while the batch is handled and ended (with the batch's error, if any) after."""

    def __init__(self, name: str, records: Sequence[tuple[str | None, Attributes]]) -> None:
        self.spans = [
            start(name, parent=parent or "", kind=SpanKind.CONSUMER, attributes=attributes)
            for parent, attributes in records
        ]
        self._token: contextvars.Token[dict[str, Span] | None] | None = None

    def __enter__(self) -> "Handling":
        by_trace = {f"{s.get_span_context().trace_id:032x}": s for s in reversed(self.spans)}
        self._token = _handling.set(by_trace)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is not None:
            _handling.reset(self._token)
        end(self.spans, exc if isinstance(exc, Exception) else None)
