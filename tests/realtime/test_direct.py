"""Event frames encoded once and written straight to the transport (``realtime.direct``): the
bytes are what python-websockets itself would send, real clients read them among the frames
that go through ASGI, and a deployment with compression on keeps the ASGI path."""

import asyncpg
import pytest
from websockets.frames import Frame, Opcode

from bus.publisher import Publisher
from credentials import Vault
from devstack.stack import Endpoints
from realtime.wire import SharedFrame, text_frame
from realtime.ws import Connection
from tests.realtime.conftest import Gateway, connect, next_event, running_gateway, subscribe, token
from tests.realtime.world import inbound, make_world


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 200_000])
def test_a_shared_frame_is_the_frame_websockets_would_write(size: int) -> None:
    payload = ("é" * size).encode()[:size]
    expected = Frame(Opcode.TEXT, payload).serialize(mask=False, extensions=[])
    assert text_frame(payload) == expected


def test_a_shared_frame_is_encoded_once() -> None:
    frame = SharedFrame('{"type":"event"}')
    assert frame == '{"type":"event"}'
    assert frame.wire is frame.wire


def _connections(gw: Gateway) -> list[Connection]:
    return [s for subs in gw.hub._subscribers.values() for s in subs]  # type: ignore[misc]


async def test_events_go_straight_to_the_transport_between_asgi_frames(
    gateway: Gateway, app_pool: asyncpg.Pool, vault: Vault, publisher: Publisher, make_tenant
) -> None:  # type: ignore[no-untyped-def]
    world = await make_world(app_pool, vault, await make_tenant("direct"))
    ws, _ = await connect(gateway, token(world.tenant_id))
    [connection] = [c for c in _connections(gateway) if c.session.tenant_id == world.tenant_id]
    assert connection._direct is not None, "compression off: event frames are shared"
    channel = f"conversation:{world.conversation_id}"
    assert (await subscribe(ws, channel))["type"] == "subscribed"

    sent = []
    for n in range(30):
        sent += await inbound(app_pool, publisher, world, f"direct {n}", with_conversation=True)
    got = [await next_event(ws) for _ in sent]
    assert [f["cursor"] for f in got] == [e.cursor for e in sent]
    texts = [f["event"]["message"]["text"] for f in got if f["event"]["type"] == "message.created"]
    assert texts == [f"direct {n}" for n in range(30)]

    # A frame through ASGI after shared ones: the connection's byte stream is still well formed.
    refused = await subscribe(ws, "conversation:not-a-uuid")
    assert refused["type"] == "error"
    await ws.close()


async def test_with_compression_on_the_frames_go_through_asgi(
    stack: Endpoints, app_pool: asyncpg.Pool, vault: Vault, publisher: Publisher, make_tenant
) -> None:  # type: ignore[no-untyped-def]
    world = await make_world(app_pool, vault, await make_tenant("deflate"))
    async with running_gateway(stack, ws_compression=True) as gw:
        compressed, _ = await connect(gw, token(world.tenant_id))
        plain, _ = await connect(gw, token(world.tenant_id), compression=None)
        assert [e.name for e in compressed.protocol.extensions] == ["permessage-deflate"]
        assert plain.protocol.extensions == []
        # The compressed connection's frames are its own; the one that declined shares them.
        assert sorted(c._direct is None for c in _connections(gw)) == [False, True]
        for ws in (compressed, plain):
            channel = f"conversation:{world.conversation_id}"
            assert (await subscribe(ws, channel))["type"] == "subscribed"
        sent = await inbound(app_pool, publisher, world, "compressed?", with_conversation=True)
        for ws in (compressed, plain):
            got = [await next_event(ws) for _ in sent]
            assert [f["cursor"] for f in got] == [e.cursor for e in sent]
            await ws.close()
