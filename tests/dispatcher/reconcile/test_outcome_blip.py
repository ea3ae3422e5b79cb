"""A successful send survives a database blip: Postgres backends terminated right after the
provider accepted the message (and again for a few seconds, as a restart would), and the
message still ends 'sent' with its provider id. Recording the outcome is retried on its own."""

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import httpx
import pytest
from pydantic import SecretStr

from config.shared import DatabaseSettings, KafkaSettings, S3Settings
from contracts import Provider
from contracts.outbound import OutboundText
from credentials import Vault
from db.pool import create_pool
from devstack.stack import Endpoints
from providers.egress import EgressPolicy
from providers.http import create_client
from tests.dispatcher.conftest import (
    Dispatcher,
    Sim,
    Wired,
    build_deps,
    publish,
    queue,
    wait_until,
)
from tests.dispatcher.outbound import message_row

APP_NAME = "dispatcher-blip-test"  # the backends this test terminates, and only those
ANSWER_AFTER_S = 1.0  # the simulator accepts, then answers this much later
BLIP_S = 4.0  # how long every new backend of the dispatcher's pool is terminated


@pytest.fixture
async def blip_pool(stack: Endpoints) -> AsyncIterator[asyncpg.Pool]:
    url = f"{stack.app_database_url}?application_name={APP_NAME}"
    pool = await create_pool(DatabaseSettings(app_database_url=SecretStr(url)))
    yield pool
    await pool.close()


@pytest.fixture
async def blip_http(sim: Sim) -> AsyncIterator[httpx.AsyncClient]:
    """The dispatcher's provider client with production's timeouts: on a loaded machine the
    answer may be slow, and a timed-out answer would (rightly) end "may have been sent"."""
    policy = EgressPolicy.reaching(sim.base_url)
    async with create_client(policy, connect_s=5.0, read_s=30.0) as client:
        yield client


@pytest.fixture
async def blip_dispatcher(
    blip_pool: asyncpg.Pool,
    vault: Vault,
    blip_http: httpx.AsyncClient,
    publisher: Any,
    s3_client: Any,
    s3_settings: S3Settings,
    kafka_settings: KafkaSettings,
) -> AsyncIterator[Dispatcher]:
    deps = build_deps(blip_pool, vault, blip_http, publisher, s3_client, s3_settings.bucket)
    running = Dispatcher(deps, kafka_settings)
    await running.consumer.start()
    stop = asyncio.Event()
    task = asyncio.create_task(running.consumer.run(stop))
    try:
        yield running
    finally:
        stop.set()
        await task
        await running.consumer.stop()


async def _terminate_for(owner: asyncpg.Connection, seconds: float) -> int:
    """Terminate the test pool's backends, again and again, for ``seconds``; how many."""
    terminated = 0
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds
    while loop.time() < until:
        terminated += await owner.fetchval(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = $1",
            APP_NAME,
        )
        await asyncio.sleep(0.05)
    return terminated


@pytest.mark.parametrize("provider", [Provider.META, Provider.ZAPI])
async def test_a_send_the_provider_accepted_ends_sent_through_a_database_blip(
    provider: Provider,
    wire: Callable[..., Any],
    app_pool: asyncpg.Pool,
    owner_conn: asyncpg.Connection,
    sim: Sim,
    blip_dispatcher: Dispatcher,
) -> None:
    wired: Wired = await wire(provider)  # no webhooks: only the dispatcher can record it
    event = await queue(app_pool, wired, OutboundText(body="survive the blip"))
    await sim.control.fault(
        "late_answer", provider=provider, endpoint="send", times=1, delay_s=ANSWER_AFTER_S
    )

    async def accepted() -> bool:
        return bool(await sim.control.sends(account_id=wired.account))

    async def recorded() -> bool:  # read through the test's own pool, which stays up
        return (await message_row(app_pool, wired.tenant_id, event.message_id))[
            "status"
        ] != "queued"

    blip_dispatcher.tenants.add(wired.tenant_id)
    await publish(blip_dispatcher.deps.publisher, [event])
    await wait_until(accepted, timeout_s=60)
    # The provider has the message; its answer is on the way: the database goes away.
    terminated = await _terminate_for(owner_conn, BLIP_S)
    await wait_until(recorded, timeout_s=90)
    assert terminated > 0, "the blip never hit the dispatcher's connections"
    (recorded,) = await sim.control.sends(account_id=wired.account)
    row = await message_row(app_pool, wired.tenant_id, event.message_id)
    assert (row["status"], row["provider_message_id"]) == (
        "sent",
        recorded["provider_message_id"],
    ), row["error_reason"]
    assert row["error_code"] is None
