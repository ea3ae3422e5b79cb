"""Where development traces go: a tiny OTLP/HTTP receiver writing spans to a JSON Lines file.

``omni dev`` (and the tracing tests) start it on loopback and point every service at it with
``OTEL_EXPORTER_OTLP_ENDPOINT``, the variable a deployment points at its own collector (Jaeger,
Tempo, an OpenTelemetry Collector). It accepts what the services' exporter sends (protobuf on
``POST /v1/traces``, optionally gzipped) and appends one line per span to the file, which
``omni trace`` reads. No collector or container is needed on a development machine.

``spans_of`` (the decoding) is pure; ``TraceSink`` is a stdlib HTTP server in a thread.
"""

import json
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

_KINDS = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}
_STATUS = {0: "UNSET", 1: "OK", 2: "ERROR"}
MAX_BODY_BYTES = 16 * 1024 * 1024


def _value(value: AnyValue) -> Any:
    which = value.WhichOneof("value")
    if which in ("string_value", "bool_value", "int_value", "double_value"):
        return getattr(value, which)
    if which == "array_value":
        return [_value(v) for v in value.array_value.values]
    return None if which is None else str(getattr(value, which))


def spans_of(body: bytes) -> list[dict[str, Any]]:
    """The spans of an OTLP ``ExportTraceServiceRequest``, one flat record each."""
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    out = []
    for resource_spans in request.resource_spans:
        resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
        service = str(resource.get("service.name", "unknown"))
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                out.append(
                    {
                        "trace_id": span.trace_id.hex(),
                        "span_id": span.span_id.hex(),
                        "parent_span_id": span.parent_span_id.hex(),
                        "service": service,
                        "name": span.name,
                        "kind": _KINDS.get(span.kind, str(span.kind)),
                        "start_ns": span.start_time_unix_nano,
                        "end_ns": span.end_time_unix_nano,
                        "status": _STATUS.get(span.status.code, str(span.status.code)),
                        "attributes": {a.key: _value(a.value) for a in span.attributes},
                        "links": [
                            {"trace_id": k.trace_id.hex(), "span_id": k.span_id.hex()}
                            for k in span.links
                        ],
                    }
                )
    return out


class TraceSink:
    """An OTLP/HTTP traces endpoint on ``host``:``port`` (0: any free port) appending spans to
    ``path``; ``endpoint`` is what ``OTEL_EXPORTER_OTLP_ENDPOINT`` should be."""

    def __init__(self, path: Path, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="trace-sink", daemon=True
        )

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> "TraceSink":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def write(self, spans: list[dict[str, Any]]) -> None:
        lines = "".join(json.dumps(s, separators=(",", ":")) + "\n" for s in spans)
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(lines)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                if self.path.rstrip("/") != "/v1/traces":
                    self._answer(404, b"")
                    return
                length = int(self.headers.get("content-length") or 0)
                if length > MAX_BODY_BYTES:
                    self._answer(413, b"")
                    return
                body = self.rfile.read(length)
                try:
                    if self.headers.get("content-encoding") == "gzip":
                        body = _gunzip(body)
                    spans = spans_of(body)
                except Exception:  # a body that is no OTLP request: the exporter's error
                    self._answer(400, b"")
                    return
                sink.write(spans)
                self._answer(200, ExportTraceServiceResponse().SerializeToString())

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return  # a line per export would drown the services' logs

        return Handler


def _gunzip(body: bytes) -> bytes:
    """A gzip body, inflated to at most ``MAX_BODY_BYTES``: a small body may not inflate into
    a large one (a refused body answers 400, as one that is no OTLP request)."""
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = inflate.decompress(body, MAX_BODY_BYTES)
    if inflate.unconsumed_tail:
        raise ValueError("gzip body inflates past the limit")
    return out
