"""The development trace receiver with the real SDK and OTLP/HTTP exporter in front of it, and
``omni trace`` reading what it wrote."""

import contextlib
import gzip
import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, set_span_in_context

from devstack import traces
from devstack.traces import TraceSink
from omnicli.main import main
from omnicli.trace import read_spans, render, trips


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[TraceSink]:
    running = TraceSink(tmp_path / "traces.jsonl").start()
    try:
        yield running
    finally:
        running.stop()


def _provider(sink: TraceSink, service: str) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    exporter = OTLPSpanExporter(endpoint=f"{sink.endpoint}/v1/traces")
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def test_spans_exported_by_two_services_are_one_trip_in_order(sink: TraceSink) -> None:
    api, worker = _provider(sink, "ingest-api"), _provider(sink, "ingest-worker")
    root = api.get_tracer("t").start_span("webhook meta", kind=SpanKind.SERVER)
    publish = api.get_tracer("t").start_span(
        "omni.inbound publish",
        context=set_span_in_context(root),
        attributes={"omni.provider_message_id": "wamid.7"},
    )
    persist = worker.get_tracer("t").start_span(
        "ingest-worker process",
        context=set_span_in_context(publish),
        attributes={"omni.message_id": "m-1", "retries": 2, "ok": True},
    )
    other = api.get_tracer("t").start_span("webhook meta")  # another trace: not this trip
    for span in (persist, publish, root, other):
        span.end()
    api.shutdown()
    worker.shutdown()

    spans = read_spans(sink.path.read_text().splitlines())
    assert len(spans) == 4
    (trip,) = trips(spans, "m-1")
    assert [(s["service"], s["name"]) for s in trip] == [
        ("ingest-api", "webhook meta"),
        ("ingest-api", "omni.inbound publish"),
        ("ingest-worker", "ingest-worker process"),
    ]
    assert trip[2]["attributes"] == {"omni.message_id": "m-1", "retries": 2, "ok": True}
    assert trip[0]["kind"] == "SERVER" and trip[1]["parent_span_id"] == trip[0]["span_id"]
    assert trips(spans, "wamid.7") == [trip]  # found by the provider's id too
    lines = render(trip)
    assert lines[0].startswith(f"trace {trip[0]['trace_id']}  3 spans")
    assert lines[3].rstrip().endswith("ingest-worker  " + "    ingest-worker process")


def test_omni_trace_prints_the_trip_or_says_why_not(sink: TraceSink, tmp_path: Path) -> None:
    provider = _provider(sink, "gateway")
    provider.get_tracer("t").start_span(
        "websocket send", attributes={"omni.message_id": "m-2"}
    ).end()
    provider.shutdown()

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["trace", "m-2", "--file", str(sink.path)]) == 0
    assert "gateway" in out.getvalue() and "websocket send" in out.getvalue()
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(["trace", "m-3", "--file", str(sink.path)]) == 1
        assert main(["trace", "m-2", "--file", str(tmp_path / "none.jsonl")]) == 1
    assert "no span mentions m-3" in err.getvalue()
    assert "omni dev" in err.getvalue()


def test_what_is_not_an_otlp_request_is_refused(sink: TraceSink) -> None:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(f"{sink.endpoint}/v1/traces", data=b"\xff\xfe garbage")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 400
    assert not sink.path.exists() or sink.path.read_text() == ""


def test_a_gzip_body_may_not_inflate_past_the_limit(sink: TraceSink) -> None:
    bomb = gzip.compress(b"\0" * (traces.MAX_BODY_BYTES + 1))
    assert len(bomb) < 64 * 1024
    answer = httpx.post(
        f"{sink.endpoint}/v1/traces",
        content=bomb,
        headers={"content-type": "application/x-protobuf", "content-encoding": "gzip"},
    )
    assert answer.status_code == 400
    assert not sink.path.exists() or sink.path.read_text() == ""
