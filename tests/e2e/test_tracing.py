"""One webhook's trace across every process it crosses, and one agent's send with the status
webhooks that come back: real service processes exporting over OTLP/HTTP to the development
receiver (``devstack.traces``), read back as ``omni trace`` reads them."""

import asyncio
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from pydantic import SecretStr

from config import AuthSettings
from contracts import Provider
from credentials import Vault
from devstack.services import ServiceSet
from devstack.stack import Endpoints
from devstack.traces import TraceSink
from omnicli.trace import Span, read_spans, render, trips
from simulator.control import SimControl
from tests.e2e.agent import AgentSocket, rest
from tests.e2e.conftest import System, wired_tenant

NAMES = ["simulator", "ingest-worker", "dispatcher", "ingest-api", "gateway"]


@pytest.fixture(scope="module")
def sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TraceSink]:
    running = TraceSink(tmp_path_factory.mktemp("traces") / "traces.jsonl").start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def traced(
    stack: Endpoints,
    stack_env: dict[str, str],
    sink: TraceSink,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[System]:
    """The processes a message crosses, each exporting its spans to ``sink`` (within 100 ms)."""
    env = {
        **stack_env,
        "OTEL_EXPORTER_OTLP_ENDPOINT": sink.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }
    services = ServiceSet(NAMES, env, tmp_path_factory.mktemp("traced-logs"), sys.executable)
    services.start()
    auth = AuthSettings(
        algorithm="HS256",
        secret=SecretStr(env["JWT_SECRET"]),
        issuer=env["JWT_ISSUER"],
        audience=env["JWT_AUDIENCE"],
    )
    try:
        yield System(services.urls, services, auth)
    finally:
        services.stop()


def _spans(path: Path) -> list[Span]:
    return read_spans(path.read_text().splitlines()) if path.exists() else []


async def _trips(
    path: Path, message_id: str, done: Callable[[list[list[Span]]], bool]
) -> list[list[Span]]:
    """The message's traces once ``done`` holds for them (each process exports in batches)."""
    found: list[list[Span]] = []
    try:
        async with asyncio.timeout(30):
            while not (found and done(found)):
                await asyncio.sleep(0.2)
                found = trips(await asyncio.to_thread(_spans, path), message_id)
    except TimeoutError:
        raise AssertionError("\n\n".join("\n".join(render(t)) for t in found)) from None
    return found


def _ancestry_complete(trace: list[Span]) -> bool:
    """Every span but the first has its parent in the trace: nothing between was lost."""
    ids = {s["span_id"] for s in trace}
    return all(s["parent_span_id"] in ids for s in trace[1:])


async def test_one_webhook_is_one_trace_from_receipt_to_the_websocket_frame(
    traced: System,
    sink: TraceSink,
    stack: Endpoints,
    vault: Vault,
    make_tenant,  # type: ignore[no-untyped-def]
) -> None:
    tenant_id, wired = await wired_tenant(make_tenant, stack, vault, traced, "tr")
    async with (
        AgentSocket(traced.urls["gateway"], traced.token(tenant_id)) as agent,
        SimControl(traced.urls["simulator"]) as sim,
    ):
        await agent.subscribe("inbox", agent.ready["cursor"])
        sent = await sim.inbound(Provider.META, wired[Provider.META].account_id, "text")
        assert sent["status"] == 200, sent
        await agent.wait_for(lambda seen: bool(agent.conversations()))  # the inbox's frame
    message_id = sent["provider_message_id"]  # what `omni trace` is given; ours works too

    def whole(ts: list[list[Span]]) -> bool:  # every process's spans have arrived
        return (
            ts[0][-1]["name"] == "websocket send"
            and not ts[0][0]["parent_span_id"]
            and _ancestry_complete(ts[0])
            and {s["service"] for s in ts[0]} >= {"ingest-api", "ingest-worker", "gateway"}
        )

    found = await _trips(sink.path, message_id, whole)
    assert len(found) == 1, [render(t) for t in found]  # one trace id for the whole trip
    trace = found[0]
    trace_id = trace[0]["trace_id"]
    steps = [(s["service"], s["name"]) for s in trace]
    print("\n".join(render(trace)))
    assert steps[0] == ("ingest-api", "webhook meta")
    assert steps[-1] == ("gateway", "websocket send")  # the frame is the last thing done
    order = [
        ("ingest-api", "webhook meta"),
        ("ingest-api", "omni.inbound publish"),
        ("ingest-worker", "ingest-worker process"),
        ("ingest-worker", "omni.realtime publish"),
        ("gateway", "omni.realtime deliver"),
        ("gateway", "websocket send"),
    ]
    firsts = [steps.index(step) for step in order]  # each step's first span, in that order
    assert firsts == sorted(firsts), steps
    assert _ancestry_complete(trace), render(trace)
    assert {s["service"] for s in trace} == {"ingest-api", "ingest-worker", "gateway"}
    frame = trace[-1]["attributes"]
    assert frame["omni.event_type"] == "conversation.updated"
    assert frame["omni.tenant_id"] == str(tenant_id)
    ours = {s["attributes"].get("omni.message_id") for s in trace} - {None}
    assert len(ours) == 1  # our id finds the same trip
    assert [t[0]["trace_id"] for t in trips(_spans(sink.path), ours.pop())] == [trace_id]


async def test_an_agent_send_is_one_trace_to_the_provider_and_its_statuses_follow(
    traced: System,
    sink: TraceSink,
    stack: Endpoints,
    vault: Vault,
    make_tenant,  # type: ignore[no-untyped-def]
) -> None:
    tenant_id, wired = await wired_tenant(make_tenant, stack, vault, traced, "tr")
    token = traced.token(tenant_id)
    async with (
        AgentSocket(traced.urls["gateway"], token) as agent,
        SimControl(traced.urls["simulator"]) as sim,
    ):
        start = agent.ready["cursor"]
        await agent.subscribe("inbox", start)
        await sim.inbound(Provider.META, wired[Provider.META].account_id, "text")
        await agent.wait_for(lambda seen: bool(agent.conversations()))
        conversation_id = str(agent.conversations()[-1]["id"])
        await agent.subscribe(f"conversation:{conversation_id}", start)
        async with rest(traced.urls["gateway"], token) as api:
            response = await api.post(
                f"/v1/conversations/{conversation_id}/messages",
                json={"client_message_id": str(uuid4()), "content": {"kind": "text", "body": "oi"}},
            )
        assert response.status_code == 202, response.text
        reply_id = response.json()["id"]
        await agent.wait_for(
            lambda seen: any(
                m["id"] == reply_id and m["status"] == "read" for m in agent.messages()
            )
        )

    def complete(ts: list[list[Span]]) -> bool:
        # the send's trace to its last frame, and a status webhook's trace to its frame
        services = {s["service"] for s in ts[0]}
        return (
            services >= {"gateway", "dispatcher"}
            and ts[0][-1]["name"] == "websocket send"
            and _ancestry_complete(ts[0])
            and any(_status_trace(t) for t in ts[1:])
        )

    found = await _trips(sink.path, reply_id, complete)
    send, statuses = found[0], found[1:]
    steps = [(s["service"], s["name"]) for s in send]
    print("\n\n".join("\n".join(render(t)) for t in found))
    assert steps[0] == ("gateway", "POST /v1/conversations/{conversation_id}/messages")
    order = [
        ("gateway", "omni.outbound publish"),
        ("dispatcher", "dispatcher process"),
        ("dispatcher", "meta send"),
        ("dispatcher", "omni.realtime publish"),
    ]
    firsts = [steps.index(step) for step in order]
    assert firsts == sorted(firsts), steps
    assert steps[-1] == ("gateway", "websocket send")
    assert _ancestry_complete(send), render(send)
    # A status webhook: its own trace (the provider carries no context back), from its receipt
    # to the agent's frame, found by the message's id, its persist linked to the send's trace.
    assert any(_status_trace(t) for t in statuses), statuses
    linked = {
        link["trace_id"]
        for trace in statuses
        for s in trace
        if s["name"] == "ingest-worker process"
        for link in s.get("links", ())
    }
    assert linked == {send[0]["trace_id"]}, statuses


def _status_trace(trace: list[Span]) -> bool:
    steps = [(s["service"], s["name"]) for s in trace]
    return (
        steps[0] == ("ingest-api", "webhook meta")
        and ("ingest-worker", "ingest-worker process") in steps
        and steps[-1] == ("gateway", "websocket send")
    )
