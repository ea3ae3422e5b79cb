"""A gateway whose realtime reader died is deaf: /healthz fails within seconds (the orchestrator
restarts it) and its websocket clients are told to reconnect and resume elsewhere."""

import asyncio

import asyncpg
import pytest
from websockets.exceptions import ConnectionClosed

from credentials import Vault
from devstack.stack import Endpoints
from realtime.protocol import CloseCode
from tests.realtime.conftest import connect, recv, running_gateway, subscribe, token
from tests.realtime.world import make_world


async def test_a_dead_reader_fails_healthz_and_closes_websockets_with_reconnect(
    stack: Endpoints, app_pool: asyncpg.Pool, vault: Vault, make_tenant
) -> None:  # type: ignore[no-untyped-def]
    w = await make_world(app_pool, vault, await make_tenant())
    async with running_gateway(stack) as gw, gw.ops() as ops:
        assert (await ops.get("/healthz")).status_code == 200
        ws, _ = await connect(gw, token(w.tenant_id))
        assert (await subscribe(ws, "inbox"))["type"] == "subscribed"

        gw.app.state.consume.cancel()  # the reader dies (as on an unexpected error)

        async with asyncio.timeout(5):
            while (answer := await ops.get("/healthz")).status_code == 200:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        assert answer.status_code == 503
        assert any("realtime-reader" in loop for loop in answer.json()["loops"])
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(5):
                while True:
                    await recv(ws)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == CloseCode.GOING_AWAY
