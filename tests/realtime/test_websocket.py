"""Real websocket clients against the in-process gateway, the broker and Postgres."""

import asyncio
import contextlib
import socket
from uuid import uuid4

import asyncpg
import jwt
import orjson
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from bus.publisher import Outgoing, Publisher
from contracts import topics
from credentials import Vault
from devstack.stack import Endpoints
from realtime.protocol import CloseCode
from tests.conftest import TEST_SECRETS
from tests.realtime.conftest import (
    Gateway,
    connect,
    next_event,
    recv,
    running_gateway,
    subscribe,
    token,
)
from tests.realtime.world import inbound, make_world


async def test_a_tenants_message_reaches_its_client_and_never_another_tenants(
    gateway: Gateway, app_pool: asyncpg.Pool, vault: Vault, publisher: Publisher, make_tenant
) -> None:  # type: ignore[no-untyped-def]
    a = await make_world(app_pool, vault, await make_tenant("A"))
    b = await make_world(app_pool, vault, await make_tenant("B"))
    ws_a, _ = await connect(gateway, token(a.tenant_id))
    ws_b, _ = await connect(gateway, token(b.tenant_id))
    assert (await subscribe(ws_a, f"conversation:{a.conversation_id}"))["type"] == "subscribed"
    assert (await subscribe(ws_a, "inbox"))["type"] == "subscribed"
    assert (await subscribe(ws_b, "inbox"))["type"] == "subscribed"

    # B asking for A's conversation is refused exactly like a conversation that does not exist.
    refused = await subscribe(ws_b, f"conversation:{a.conversation_id}")
    missing = await subscribe(ws_b, f"conversation:{uuid4()}")
    assert refused["code"] == missing["code"] == "not_found"
    assert refused["message"] == missing["message"]

    sent = await inbound(app_pool, publisher, a, "hello from A", with_conversation=True)
    got = [await next_event(ws_a), await next_event(ws_a)]
    assert [f["cursor"] for f in got] == [e.cursor for e in sent]
    assert got[0]["event"]["message"]["text"] == "hello from A"
    assert got[1]["event"]["type"] == "conversation.updated"

    # A's event was dispatched before B's marker exists: B's next event is its own marker.
    marker = await inbound(app_pool, publisher, b, "marker for B", with_conversation=True)
    frame = await next_event(ws_b)
    assert frame["event"]["tenant_id"] == str(b.tenant_id)
    assert frame["cursor"] == marker[1].cursor
    await ws_a.close()
    await ws_b.close()


async def test_client_resuming_after_100_messages_gets_each_once_in_order(
    gateway: Gateway, app_pool: asyncpg.Pool, vault: Vault, publisher: Publisher, make_tenant
) -> None:  # type: ignore[no-untyped-def]
    w = await make_world(app_pool, vault, await make_tenant())
    channel = f"conversation:{w.conversation_id}"
    ws, _ = await connect(gateway, token(w.tenant_id))
    await subscribe(ws, channel)
    first = await inbound(app_pool, publisher, w, "before the disconnect")
    last_seen = (await next_event(ws))["cursor"]
    assert last_seen == first[0].cursor
    await ws.close()

    # 60 arrive while the client is away; one producer "crashes" after commit (never published).
    expected = []
    for i in range(60):
        stamped = await inbound(app_pool, publisher, w, f"m{i}", publish=i != 30)
        expected.append(stamped[0].cursor)

    ws, _ = await connect(gateway, token(w.tenant_id))
    await ws.send(
        orjson.dumps({"type": "subscribe", "channel": channel, "after": last_seen}).decode()
    )

    async def more() -> list[int]:  # 40 more arrive while the replay is being read
        out = []
        for i in range(60, 100):
            out.append((await inbound(app_pool, publisher, w, f"m{i}"))[0].cursor)
        return out

    producer = asyncio.create_task(more())
    received: list[int] = []
    texts: list[str] = []
    while len(received) < 100:
        frame = await recv(ws)
        if frame["type"] == "event":
            received.append(frame["cursor"])
            texts.append(frame["event"]["message"]["text"])
    expected += await producer
    assert received == expected
    assert texts == [f"m{i}" for i in range(100)]

    marker = await inbound(app_pool, publisher, w, "after")
    assert (await next_event(ws))["cursor"] == marker[0].cursor  # nothing twice in between
    await ws.close()


async def test_live_gap_is_filled_from_postgres_and_topic_duplicates_are_dropped(
    gateway: Gateway, app_pool: asyncpg.Pool, vault: Vault, publisher: Publisher, make_tenant
) -> None:  # type: ignore[no-untyped-def]
    w = await make_world(app_pool, vault, await make_tenant())
    ws, _ = await connect(gateway, token(w.tenant_id))
    await subscribe(ws, f"conversation:{w.conversation_id}")
    lost = await inbound(app_pool, publisher, w, "committed, never published", publish=False)
    first = await inbound(app_pool, publisher, w, "published")
    await publisher.publish_many(  # the topic delivers an event twice
        [Outgoing(topics.REALTIME, str(w.tenant_id), e) for e in first]
    )
    last = await inbound(app_pool, publisher, w, "after the duplicate")
    got = [await next_event(ws) for _ in range(3)]
    assert [f["cursor"] for f in got] == [lost[0].cursor, first[0].cursor, last[0].cursor]
    assert got[0]["event"]["message"]["text"] == "committed, never published"
    await ws.close()


async def test_a_burst_read_in_one_poll_arrives_whole_and_in_cursor_order(
    gateway: Gateway, app_pool: asyncpg.Pool, vault: Vault, publisher: Publisher, make_tenant
) -> None:  # type: ignore[no-untyped-def]
    """The gateway hands a poll's events to a connection together: still in cursor order, a
    gap inside the burst read from Postgres before the events after it, a duplicate dropped."""
    w = await make_world(app_pool, vault, await make_tenant())
    ws, _ = await connect(gateway, token(w.tenant_id))
    await subscribe(ws, f"conversation:{w.conversation_id}")
    burst = [
        (await inbound(app_pool, publisher, w, f"burst {i}", publish=False))[0] for i in range(6)
    ]
    on_topic = burst[:2] + burst[3:5] + burst[4:]  # the third never published, the fifth twice
    await publisher.publish_many([Outgoing(topics.REALTIME, str(w.tenant_id), e) for e in on_topic])
    got = [await next_event(ws) for _ in burst]
    assert [f["cursor"] for f in got] == [e.cursor for e in burst]
    assert [f["event"]["message"]["text"] for f in got] == [f"burst {i}" for i in range(6)]
    marker = await inbound(app_pool, publisher, w, "after the burst")
    assert (await next_event(ws))["cursor"] == marker[0].cursor  # nothing twice in between
    await ws.close()


async def test_a_lost_publish_reaches_a_quiet_tenants_client_within_seconds(
    gateway: Gateway, app_pool: asyncpg.Pool, vault: Vault, publisher: Publisher, make_tenant
) -> None:  # type: ignore[no-untyped-def]
    """Nothing else happens in this tenant after the lost publish: the gateway's tail finds the
    committed event on its own."""
    w = await make_world(app_pool, vault, await make_tenant())
    ws, _ = await connect(gateway, token(w.tenant_id))
    await subscribe(ws, f"conversation:{w.conversation_id}")
    lost = await inbound(app_pool, publisher, w, "committed, publish lost", publish=False)
    async with asyncio.timeout(5):
        frame = await next_event(ws)
    assert frame["cursor"] == lost[0].cursor
    assert frame["event"]["message"]["text"] == "committed, publish lost"
    marker = await inbound(app_pool, publisher, w, "later, published")
    assert (await next_event(ws))["cursor"] == marker[0].cursor  # not delivered twice
    await ws.close()


async def test_resume_too_far_behind_is_told_to_reload(
    stack: Endpoints, app_pool: asyncpg.Pool, vault: Vault, publisher: Publisher, make_tenant
) -> None:  # type: ignore[no-untyped-def]
    w = await make_world(app_pool, vault, await make_tenant())
    async with running_gateway(stack, max_replay=5) as gw:
        ws, ready = await connect(gw, token(w.tenant_id))
        await subscribe(ws, f"conversation:{w.conversation_id}")
        for i in range(8):
            await inbound(app_pool, publisher, w, f"m{i}")
        for _ in range(8):  # the gateway has seen them all live
            await next_event(ws)
        ws2, _ = await connect(gw, token(w.tenant_id))
        await ws2.send(
            orjson.dumps(
                {
                    "type": "subscribe",
                    "channel": f"conversation:{w.conversation_id}",
                    "after": ready["cursor"],
                }
            ).decode()
        )
        reset = await recv(ws2)
        assert reset["type"] == "reset" and reset["cursor"] >= ready["cursor"] + 8
        assert (await recv(ws2))["type"] == "subscribed"
        await ws.close()
        await ws2.close()


# -- authentication -------------------------------------------------------------------------------


def _claims(tenant_id, **overrides):  # type: ignore[no-untyped-def]
    import time

    now = int(time.time())
    claims = {
        "sub": "agent-1",
        "tenant_id": str(tenant_id),
        "role": "agent",
        "iss": TEST_SECRETS["JWT_ISSUER"],
        "aud": TEST_SECRETS["JWT_AUDIENCE"],
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return claims


def bad_tokens(tenant_id):  # type: ignore[no-untyped-def]
    import time

    secret = TEST_SECRETS["JWT_SECRET"]
    return {
        "forged": jwt.encode(_claims(tenant_id), "not-the-secret-" * 3, algorithm="HS256"),
        "expired": jwt.encode(
            _claims(tenant_id, exp=int(time.time()) - 3600, iat=int(time.time()) - 7200),
            secret,
            algorithm="HS256",
        ),
        "wrong_audience": jwt.encode(
            _claims(tenant_id, aud="someone-else"), secret, algorithm="HS256"
        ),
        "alg_none": jwt.encode(_claims(tenant_id), None, algorithm="none"),
        "not_a_member": jwt.encode(_claims(tenant_id, sub="stranger"), secret, algorithm="HS256"),
    }


@pytest.mark.parametrize(
    "kind", ["forged", "expired", "wrong_audience", "alg_none", "not_a_member"]
)
async def test_bad_tokens_are_refused_on_rest_and_websocket(
    kind: str, gateway: Gateway, make_tenant
) -> None:  # type: ignore[no-untyped-def]
    tenant_id = await make_tenant()
    bad = bad_tokens(tenant_id)[kind]
    async with gateway.http(bad) as client:
        response = await client.get("/v1/conversations")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    async with websockets.connect(gateway.ws_url) as ws:
        await ws.send(orjson.dumps({"type": "auth", "token": bad}).decode())
        with pytest.raises(ConnectionClosed) as closed:
            await recv(ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CloseCode.UNAUTHENTICATED


async def test_token_in_first_frame_or_closed_after_the_auth_timeout(stack: Endpoints) -> None:
    async with (
        running_gateway(stack, auth_timeout_s=0.5) as gw,
        websockets.connect(gw.ws_url) as ws,
    ):
        with pytest.raises(ConnectionClosed) as closed:
            await recv(ws)  # the client never authenticates
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == CloseCode.UNAUTHENTICATED
    assert closed.value.rcvd.reason == "authentication timeout"


async def test_client_frame_flood_closes_with_4029(stack: Endpoints, make_tenant) -> None:  # type: ignore[no-untyped-def]
    tenant_id = await make_tenant()
    async with running_gateway(stack, frames_per_s=0.1, frames_burst=3) as gw:
        ws, _ = await connect(gw, token(tenant_id))  # the auth frame took one token
        for _ in range(3):
            await ws.send(orjson.dumps({"type": "unsubscribe", "channel": "inbox"}).decode())
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await recv(ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CloseCode.RATE_LIMITED


async def test_origin_outside_the_allow_list_is_refused(stack: Endpoints) -> None:
    async with running_gateway(stack, allowed_origins="https://app.example") as gw:
        async with websockets.connect(gw.ws_url, origin="https://app.example") as ws:  # type: ignore[arg-type]
            assert ws.response is not None
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(gw.ws_url, origin="https://evil.example")  # type: ignore[arg-type]
    assert refused.value.response.status_code == 403


async def test_oversized_frame_closes_with_1009(gateway: Gateway, make_tenant) -> None:  # type: ignore[no-untyped-def]
    ws, _ = await connect(gateway, token(await make_tenant()))
    await ws.send("x" * (64 * 1024 + 1))
    with pytest.raises(ConnectionClosed) as closed:
        await recv(ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CloseCode.TOO_BIG


# -- slow consumers -------------------------------------------------------------------------------


async def test_slow_client_is_disconnected_while_others_keep_receiving(
    stack: Endpoints,
    gateway: Gateway,
    app_pool: asyncpg.Pool,
    vault: Vault,
    publisher: Publisher,
    make_tenant,
) -> None:  # type: ignore[no-untyped-def]
    """A second gateway instance with a small send queue: it and the first one both see every
    event (fan-out per instance); the client that never reads is cut off at the bound."""
    w = await make_world(app_pool, vault, await make_tenant())
    channel = f"conversation:{w.conversation_id}"
    bound = 16
    async with running_gateway(stack, send_queue_max=bound, close_timeout_s=0.5) as small:
        fast_a, _ = await connect(gateway, token(w.tenant_id))
        fast_b, _ = await connect(small, token(w.tenant_id))
        # The slow client: tiny receive buffer, and a client library that stops reading early.
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.connect(("127.0.0.1", small.port))
        slow, _ = await connect(small, token(w.tenant_id), sock=raw, max_queue=1)
        for ws in (fast_a, fast_b, slow):
            assert (await subscribe(ws, channel))["type"] == "subscribed"
        assert small.hub.subscriber_count(w.tenant_id) == 2  # fast_b and slow

        counts = {"a": 0, "b": 0}

        async def drain(name: str, ws) -> None:  # type: ignore[no-untyped-def]
            """Count events until the final marker (a closed connection ends it early)."""
            with contextlib.suppress(ConnectionClosed):
                while True:
                    frame = await recv(ws)
                    if frame["type"] == "event":
                        counts[name] += 1
                        if frame["event"]["message"]["text"] == "still flowing":
                            return

        readers = [
            asyncio.create_task(drain("a", fast_a)),
            asyncio.create_task(drain("b", fast_b)),
        ]
        produced = 0
        body = "y" * 3000
        for _ in range(200):  # produce until the slow client is cut off (bounded)
            for _ in range(20):
                await inbound(app_pool, publisher, w, body)
                produced += 1
            if small.hub.subscriber_count(w.tenant_id) == 1:
                break
        assert small.hub.subscriber_count(w.tenant_id) == 1, "the slow client was never dropped"
        assert small.hub.peak_queue <= bound + 1  # memory: the queue never grew past the bound

        marker = await inbound(app_pool, publisher, w, "still flowing")
        produced += 1
        await asyncio.gather(*readers)
        assert counts == {"a": produced, "b": produced}
        assert marker[0].cursor is not None

        # The slow client, once it reads, finds its connection ended, having had fewer events.
        got = 0
        with pytest.raises(ConnectionClosed):
            while True:
                frame = await recv(slow)
                got += frame["type"] == "event"
        assert got < produced
        # Counted when the gateway's side of the connection ends: soon after the client's.
        async with small.ops() as ops, asyncio.timeout(30):
            while 'closes_total{code="4008"}' not in (await ops.get("/metrics")).text:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        await fast_a.close()
        await fast_b.close()
