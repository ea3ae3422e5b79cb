"""The gateway keeps an idle connection longer than a client's pool does."""

import asyncio

import httpx

from tests.realtime.conftest import Gateway


def _client_port(response: httpx.Response) -> int:
    port: int = response.extensions["network_stream"].get_extra_info("client_addr")[1]
    return port


async def test_an_idle_connection_outlives_uvicorns_default_keep_alive(gateway: Gateway) -> None:
    """uvicorn closes idle connections after 5 s by default, the very moment httpx's pool
    would reuse them: a request written just then meets a closed connection. Idle 6 s, the
    connection is still the gateway's, and the next request goes over it."""
    limits = httpx.Limits(keepalive_expiry=30)
    async with httpx.AsyncClient(base_url=gateway.url, limits=limits) as client:
        first = await client.get("/v1/conversations")
        first_port = _client_port(first)
        await asyncio.sleep(6)
        second = await client.get("/v1/conversations")
        second_port = _client_port(second)
    assert first.status_code == second.status_code == 401  # no token: answered all the same
    assert first_port == second_port
