"""Where a provider call ended decides whether it may be repeated: nothing left (connection
refused, no pooled connection in time) → Retryable; the request written and then no answer
(read timeout, the connection closed under it), a 5xx that is not the provider's own error
answer, a 2xx without the message id → Ambiguous for sends, Retryable for calls that may
happen twice. Over real sockets: raw TCP servers that misbehave on purpose, and the
simulator's accepting faults."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import pytest

from contracts.outbound import OutboundText
from providers import errors
from providers.base import SendRequest
from providers.call import Call
from providers.egress import EgressPolicy
from providers.evolution import build as evolution
from providers.http import create_client, perform
from providers.meta import build as meta
from providers.meta.parse import parse as parse_meta
from providers.registry import client
from providers.zapi import build as zapi
from simulator.control import SimControl
from simulator.server import RunningSimulator, free_port
from simulator.webhooks import meta_status

Behaviour = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    await reader.readexactly(length)


@asynccontextmanager
async def tcp_server(behaviour: Behaviour) -> AsyncIterator[tuple[str, list[int]]]:
    """A loopback server running ``behaviour`` per connection; yields its URL and a list
    counting the requests it read completely."""
    read: list[int] = []
    handlers: set[asyncio.Task[None]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await _read_request(reader)
            read.append(1)
            await behaviour(reader, writer)
        except (asyncio.CancelledError, ConnectionError, asyncio.IncompleteReadError):
            pass  # the test is over, or the client gave up
        finally:
            writer.close()

    def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.create_task(handle(reader, writer))
        handlers.add(task)
        task.add_done_callback(handlers.discard)

    server = await asyncio.start_server(connected, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", read
    finally:
        server.close()
        for task in list(handlers):
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)


async def _never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(30)


async def _close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    return None  # the handler closes the connection without a byte of answer


def send_call(url: str) -> Call:
    return Call("POST", f"{url}/v23.0/1/messages", {"to": "5511999990000"})


async def test_connection_refused_is_retryable() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    async with create_client(EgressPolicy.reaching(url), connect_s=1.0, read_s=1.0) as http:
        with pytest.raises(errors.Retryable):
            await perform(http, send_call(url))


@pytest.mark.parametrize("behaviour", [_never_answer, _close], ids=["read_timeout", "closed"])
async def test_written_then_no_answer_is_ambiguous_for_a_send(behaviour: Behaviour) -> None:
    async with (
        tcp_server(behaviour) as (url, read),
        create_client(EgressPolicy.reaching(url), read_s=0.5) as http,
    ):
        with pytest.raises(errors.Ambiguous) as caught:
            await perform(http, send_call(url))
        assert not isinstance(caught.value, errors.Retryable)
        assert read == [1]  # the provider did get the whole request


@pytest.mark.parametrize("behaviour", [_never_answer, _close], ids=["read_timeout", "closed"])
async def test_written_then_no_answer_is_retryable_for_an_idempotent_call(
    behaviour: Behaviour,
) -> None:
    async with (
        tcp_server(behaviour) as (url, _),
        create_client(EgressPolicy.reaching(url), read_s=0.5) as http,
    ):
        with pytest.raises(errors.Retryable) as caught:
            await perform(http, send_call(url), idempotent=True)
        assert "reached the provider" in caught.value.reason
        with pytest.raises(errors.Retryable):  # GET is idempotent by default
            await perform(http, Call("GET", f"{url}/v23.0/1"))


async def test_no_pooled_connection_in_time_is_retryable() -> None:
    async with tcp_server(_never_answer) as (url, read):
        http = httpx.AsyncClient(
            timeout=httpx.Timeout(5.0, pool=0.3), limits=httpx.Limits(max_connections=1)
        )
        async with http:
            hanging = asyncio.create_task(perform(http, send_call(url)))
            await asyncio.sleep(0.3)
            with pytest.raises(errors.Retryable):
                await perform(http, send_call(url))
            hanging.cancel()
        assert read == [1]  # the second never reached the provider


PROXY_502 = b"<html><body><h1>502 Bad Gateway</h1></body></html>"


@pytest.mark.parametrize(
    ("reader", "own_503"),
    [
        (meta.read_send_response, json.dumps({"error": {"code": 2, "message": "x"}}).encode()),
        (evolution.read_send_response, json.dumps({"status": 503, "response": {}}).encode()),
        (zapi.read_send_response, json.dumps({"error": "unavailable"}).encode()),
    ],
    ids=["meta", "evolution", "zapi"],
)
def test_send_answers_that_leave_it_open(reader: Callable[..., object], own_503: bytes) -> None:
    for status in (500, 502, 503, 504):
        with pytest.raises(errors.Ambiguous):
            reader(status, PROXY_502, None)
    for body in (b"", b"not json", b"{}"):
        with pytest.raises(errors.Ambiguous):
            reader(200, body, None)
    with pytest.raises(errors.Retryable):  # the provider's own "unavailable": refused
        reader(503, own_503, None)
    with pytest.raises(errors.RateLimited):
        reader(429, b"", 2.0)


def test_meta_status_carries_our_client_message_id() -> None:
    parsed = parse_meta(meta_status("123", "wamid.X", "delivered", "5511", client_ref="c-42"))
    assert not isinstance(parsed, Exception) and hasattr(parsed, "statuses")
    (status,) = parsed.statuses  # type: ignore[union-attr]
    assert status.client_message_id == "c-42" and status.provider_message_ids == ("wamid.X",)


@pytest.mark.parametrize("provider", ["meta", "evolution", "zapi"])
@pytest.mark.parametrize("fault", ["late_answer", "accepted_502", "accepted_no_id"])
async def test_accepting_faults_are_ambiguous_and_the_provider_has_the_message(
    provider: str, fault: str, provider_sim: RunningSimulator
) -> None:
    account = f"acc-{uuid.uuid4().hex[:12]}"
    credentials = {
        "meta": {"access_token": "tok", "phone_number_id": account},
        "evolution": {"api_key": "tok", "instance": account},
        "zapi": {"instance_id": account, "token": "tok", "client_token": "ct"},
    }[provider]
    async with (
        SimControl(provider_sim.base_url) as sim,
        create_client(EgressPolicy.reaching(provider_sim.base_url), read_s=0.5) as http,
    ):
        await sim.register(provider, account, access_token="tok", client_token="ct")
        await sim.fault(fault, provider=provider, endpoint="send", delay_s=1.5)
        adapter = client(provider, credentials, http, base_url=provider_sim.base_url)
        request = SendRequest(to="5511987654321", content=OutboundText(body="hi"))
        with pytest.raises(errors.Ambiguous):
            await adapter.send(request)
        (recorded,) = await sim.sends(account_id=account)
        assert recorded["provider_message_id"]  # accepted: the message exists at the provider
        assert (await adapter.send(request)).provider_message_id  # the fault was for one call
