"""Websocket sessions end when they should (issue #17): silent connections at the auth
timeout, sessions at their token's expiry unless a fresh token extends them, and within seconds
of the member's removal from the tenant. Real websocket clients against a real gateway."""

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import asyncpg
import orjson
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from auth.tokens import mint
from db.provision import upsert_member
from devstack.stack import Endpoints
from realtime.protocol import CloseCode
from tests.realtime.conftest import TEST_AUTH, Gateway, connect, recv, running_gateway, subscribe

AUTH_TIMEOUT_S = 1.0
MEMBERSHIP_CHECK_S = 0.5


@pytest.fixture(scope="module")
async def gw(stack: Endpoints) -> AsyncIterator[Gateway]:
    async with running_gateway(
        stack, auth_timeout_s=AUTH_TIMEOUT_S, membership_check_s=MEMBERSHIP_CHECK_S
    ) as gateway:
        yield gateway


def _token(tenant_id: UUID, *, ttl_s: int, user: str = "agent-1") -> str:
    return mint(TEST_AUTH, tenant_id=tenant_id, user_id=user, role="agent", ttl_s=ttl_s)


async def _closed(ws: Any, within_s: float = 30) -> tuple[int, str, float]:
    """Read until the gateway closes; its close code, reason and the (monotonic) time."""
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(within_s):
            while True:
                await ws.recv()
    assert closed.value.rcvd is not None, "the gateway did not send a close frame"
    return closed.value.rcvd.code, closed.value.rcvd.reason, time.monotonic()


async def test_100_silent_connections_are_all_closed_within_the_auth_timeout(gw: Gateway) -> None:
    async def silent() -> tuple[int, float]:
        async with websockets.connect(gw.ws_url, open_timeout=30) as ws:
            opened = time.monotonic()
            code, _, at = await _closed(ws)
        return code, at - opened

    results = await asyncio.gather(*(silent() for _ in range(100)))
    assert {code for code, _ in results} == {CloseCode.UNAUTHENTICATED}
    slowest = max(took for _, took in results)
    print(f"\n100 silent connections closed after {min(t for _, t in results):.2f}-{slowest:.2f} s")
    assert slowest <= AUTH_TIMEOUT_S + 1.0, f"slowest close after {slowest:.2f} s"


async def test_a_session_is_closed_with_4401_at_its_tokens_expiry(
    gw: Gateway, make_tenant: Any
) -> None:
    tenant_id = await make_tenant()
    ws, ready = await connect(gw, _token(tenant_id, ttl_s=3))
    async with ws:
        code, reason, _ = await _closed(ws)
        closed_at = time.time()
    assert (code, reason) == (CloseCode.TOKEN_EXPIRED, "token expired: authenticate again")
    assert closed_at >= ready["expires_at"], "closed before the token expired"


async def test_a_fresh_token_extends_the_session_past_the_first_ones_expiry(
    gw: Gateway, make_tenant: Any
) -> None:
    tenant_id = await make_tenant()
    ws, ready = await connect(gw, _token(tenant_id, ttl_s=3))
    async with ws:
        fresh = _token(tenant_id, ttl_s=3600)
        await ws.send(orjson.dumps({"type": "auth", "token": fresh}).decode())
        answer = await recv(ws)
        assert answer["type"] == "reauthenticated" and answer["expires_at"] > ready["expires_at"]
        # Wait past the first token's expiry (bounded), then the session still works.
        await asyncio.sleep(max(0.0, ready["expires_at"] + 1.5 - time.time()))
        assert (await subscribe(ws, "inbox"))["type"] == "subscribed"
        # A fresh token of another user of the tenant ends the session instead.
        other = _token(tenant_id, ttl_s=3600, user="admin-1")
        await ws.send(orjson.dumps({"type": "auth", "token": other}).decode())
        code, _, _ = await _closed(ws)
    assert code == CloseCode.UNAUTHENTICATED


async def test_removing_the_member_closes_the_session_within_seconds(
    gw: Gateway, make_tenant: Any, owner_conn: asyncpg.Connection
) -> None:
    tenant_id = await make_tenant()
    async with owner_conn.transaction():
        await owner_conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant_id))
        await upsert_member(owner_conn, tenant_id=tenant_id, user_id="leaver", role="agent")
    leaver, _ = await connect(gw, _token(tenant_id, ttl_s=3600, user="leaver"))
    stayer, _ = await connect(gw, _token(tenant_id, ttl_s=3600))
    async with leaver, stayer:
        async with owner_conn.transaction():
            await owner_conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant_id))
            await owner_conn.execute("DELETE FROM tenant_members WHERE user_id = 'leaver'")
        removed = time.monotonic()
        code, reason, at = await _closed(leaver, within_s=30)
        assert (code, reason) == (CloseCode.NOT_A_MEMBER, "no longer a member of this tenant")
        assert at - removed < 10, "not closed within seconds"
        # The other member's session is untouched.
        assert (await subscribe(stayer, "inbox"))["type"] == "subscribed"
