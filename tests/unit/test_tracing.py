"""Tracing's rules without processes: off unless configured, and with it on, which span an
event's traceparent and a record's Kafka header name."""

from collections.abc import Iterator
from types import SimpleNamespace
from uuid import uuid4

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from bus import tracecontext
from bus.publisher import headers_for
from config.shared import TraceSettings
from contracts import SendRequested
from telemetry import tracing
from telemetry.trace import new_traceparent, trace_id


def test_tracing_is_off_unless_an_endpoint_is_configured() -> None:
    assert TraceSettings().traces_endpoint() is None
    base = TraceSettings(exporter_otlp_endpoint="http://collector:4318/")
    assert base.traces_endpoint() == "http://collector:4318/v1/traces"
    exact = TraceSettings(
        exporter_otlp_endpoint="http://a:4318", exporter_otlp_traces_endpoint="http://b/traces"
    )
    assert exact.traces_endpoint() == "http://b/traces"
    disabled = TraceSettings(exporter_otlp_endpoint="http://a:4318", sdk_disabled=True)
    assert disabled.traces_endpoint() is None


def test_off_an_event_keeps_its_traceparent_in_the_header_and_child_stays_pure() -> None:
    assert not tracing.active
    parent = new_traceparent()
    event = SendRequested.model_validate(_send_fields(parent))
    assert ("traceparent", parent.encode()) in headers_for(event)
    kid = tracing.child(parent)
    assert trace_id(kid) == trace_id(parent) and kid != parent
    assert tracing.current_traceparent() is None


@pytest.fixture
def exported(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """Tracing on for one test, its spans kept in memory."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(tracing, "active", True)
    monkeypatch.setattr(tracing, "_tracer", provider.get_tracer("test"))
    yield exporter
    provider.shutdown()


def test_each_record_of_a_batch_gets_a_span_and_events_made_for_it_name_that_span(
    exported: InMemorySpanExporter,
) -> None:
    a, b = new_traceparent(), new_traceparent()
    records = [
        SimpleNamespace(topic="omni.inbound", headers={"traceparent": a}, event=_event(None)),
        SimpleNamespace(topic="omni.inbound", headers={}, event=_event(b)),  # field, no header
    ]
    with tracecontext.handling("ingest-worker process", records) as handling:
        made_for_a, made_for_b = tracing.child(a), tracing.child(b)
        stranger = new_traceparent()
        made_for_stranger = tracing.child(stranger)
    span_a, span_b = handling.spans
    assert made_for_a == tracing.traceparent_of(span_a)
    assert made_for_b == tracing.traceparent_of(span_b)
    assert trace_id(made_for_stranger) == trace_id(stranger)  # no span of it: a plain child
    finished = {s.name: s for s in exported.get_finished_spans()}
    assert len(exported.get_finished_spans()) == 2
    one = finished["ingest-worker process"]
    assert one.parent is not None and f"{one.parent.trace_id:032x}" in (trace_id(a), trace_id(b))


def test_a_status_span_links_to_the_send_it_reports_on(exported: InMemorySpanExporter) -> None:
    send, status = new_traceparent(), new_traceparent()
    record = SimpleNamespace(topic="omni.inbound", headers={}, event=_event(status))
    with tracecontext.handling("ingest-worker process", [record]):
        tracing.link(status, send, {"omni.link": "send"})
        tracing.link(status, None)  # a message sent with tracing off: nothing to link
    (span,) = exported.get_finished_spans()
    (linked,) = span.links
    assert f"{linked.context.trace_id:032x}" == trace_id(send)
    assert f"{linked.context.span_id:016x}" == send[36:52]


def test_a_failed_batch_ends_its_spans_as_errors(exported: InMemorySpanExporter) -> None:
    record = SimpleNamespace(topic="t", headers={}, event=_event(new_traceparent()))
    with pytest.raises(RuntimeError), tracecontext.handling("x process", [record]):
        raise RuntimeError("database down")
    (span,) = exported.get_finished_spans()
    assert span.status.status_code.name == "ERROR"


def test_a_publish_is_a_span_under_the_event_and_the_header_names_it(
    exported: InMemorySpanExporter,
) -> None:
    parent = new_traceparent()
    event = SendRequested.model_validate(_send_fields(parent))
    span, headers = tracecontext.publish_span("omni.outbound", event, headers_for(event))
    span.end()
    header = dict(headers)["traceparent"].decode()
    assert header == tracing.traceparent_of(span) and header != parent
    assert trace_id(header) == trace_id(parent)
    (finished,) = exported.get_finished_spans()
    assert finished.parent is not None and f"{finished.parent.span_id:016x}" == parent[36:52]
    assert finished.attributes is not None
    assert finished.attributes["omni.message_id"] == str(event.message_id)
    assert event.traceparent == parent  # the event itself is left as it was made


def test_event_attributes_name_the_message_whichever_shape_the_event_has() -> None:
    ours = uuid4()
    created = SimpleNamespace(type="message.created", message=SimpleNamespace(id=ours))
    assert tracecontext.event_attributes(created)["omni.message_id"] == str(ours)
    inbound = SimpleNamespace(
        type="message.received", message=SimpleNamespace(provider_message_id="wamid.1")
    )
    assert tracecontext.event_attributes(inbound)["omni.provider_message_id"] == "wamid.1"
    status = SimpleNamespace(type="status.reported", provider_message_ids=("wamid.2",))
    assert tracecontext.event_attributes(status)["omni.provider_message_id"] == "wamid.2"


def _event(traceparent: str | None) -> SimpleNamespace:
    return SimpleNamespace(type="message.received", traceparent=traceparent)


def _send_fields(traceparent: str) -> dict[str, object]:
    return {
        "tenant_id": str(uuid4()),
        "message_id": str(uuid4()),
        "conversation_id": str(uuid4()),
        "integration_id": str(uuid4()),
        "provider": "meta",
        "to": "5511999999999",
        "client_message_id": "c-1",
        "content": {"kind": "text", "body": "oi"},
        "traceparent": traceparent,
    }
