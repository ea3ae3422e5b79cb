"""A send request that meets another attempt's claim (a republished copy, a redelivery after a
rebalance or a crash) over the real broker, Postgres and the simulator: while the claim is
younger than DISPATCHER_UNKNOWN_AFTER_S it waits for that attempt's outcome; only an older
claim leaves the message "unknown" ("outcome unknown"). The sweep's fails check the claim too."""

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from prometheus_client import REGISTRY

from bus.consumer import Received
from contracts import Provider, topics
from contracts.outbound import OutboundText
from db.tenant import tenant_tx
from dispatcher import store
from dispatcher.backoff import Interrupted
from dispatcher.deps import Deps
from dispatcher.send import handle_send
from tests.dispatcher.conftest import (
    Dispatcher,
    Sim,
    Wired,
    new_conversation,
    publish,
    queue,
    wait_until,
)
from tests.dispatcher.outbound import message_row


def _sends(outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "dispatcher_sends_total", {"provider": "meta", "outcome": outcome}
    )
    return value or 0.0


async def _set(pool: asyncpg.Pool, tenant: UUID, message: UUID, assignments: str) -> None:
    async with tenant_tx(pool, tenant) as conn:
        await conn.execute(f"UPDATE messages SET {assignments} WHERE id = $1", message)


async def test_a_request_meeting_a_young_claim_waits_for_its_outcome(
    wire: Callable[..., Any],
    sim: Sim,
    app_pool: asyncpg.Pool,
    dispatcher: Dispatcher,
) -> None:
    w: Wired = await wire(Provider.META)
    other = await new_conversation(app_pool, w)
    finished_elsewhere = await queue(app_pool, w, OutboundText(body="sent by the other call"))
    released_elsewhere = await queue(app_pool, other, OutboundText(body="the other call failed"))
    for request in (finished_elsewhere, released_elsewhere):
        # Another process claimed these and is calling the provider right now.
        await _set(app_pool, w.tenant_id, request.message_id, "send_started_at = now()")
    done_before = _sends("skipped_done")
    dispatcher.tenants.add(w.tenant_id)
    await publish(dispatcher.deps.publisher, [finished_elsewhere, released_elsewhere])

    await asyncio.sleep(1.5)  # time enough to have declared them unknown, were it so
    for request in (finished_elsewhere, released_elsewhere):
        row = await message_row(app_pool, w.tenant_id, request.message_id)
        assert row["status"] == "queued", "failed while another call was in flight"
    assert await sim.control.sends(account_id=w.account) == []

    # The other calls end: one sent (its outcome recorded), one failed in a known way.
    await _set(
        app_pool,
        w.tenant_id,
        finished_elsewhere.message_id,
        "status = 'sent', provider_message_id = 'wamid.elsewhere', sent_at = now()",
    )
    await _set(app_pool, w.tenant_id, released_elsewhere.message_id, "send_started_at = NULL")

    async def both_handled() -> bool:
        row = await message_row(app_pool, w.tenant_id, released_elsewhere.message_id)
        return row["status"] == "sent" and _sends("skipped_done") > done_before

    await wait_until(both_handled, timeout_s=60)
    (call,) = await sim.control.sends(account_id=w.account)
    assert call["body"]["text"]["body"] == "the other call failed"
    row = await message_row(app_pool, w.tenant_id, finished_elsewhere.message_id)
    assert (row["status"], row["provider_message_id"]) == ("sent", "wamid.elsewhere")


async def test_a_claim_older_than_the_bound_leaves_the_message_unknown(
    wire: Callable[..., Any],
    sim: Sim,
    app_pool: asyncpg.Pool,
    dispatcher: Dispatcher,
) -> None:
    w: Wired = await wire(Provider.META)
    request = await queue(app_pool, w, OutboundText(body="claimed long ago"))
    # The session's dispatcher has the default bound, 300 s.
    await _set(
        app_pool, w.tenant_id, request.message_id, "send_started_at = now() - interval '301 s'"
    )
    await dispatcher.run([request], [w.tenant_id])
    row = await message_row(app_pool, w.tenant_id, request.message_id)
    assert (row["status"], row["error_code"]) == ("unknown", "outcome_unknown")
    assert await sim.control.sends(account_id=w.account) == []


async def test_the_sweeps_fail_queries_leave_a_message_claimed_meanwhile_alone(
    wire: Callable[..., Any], app_pool: asyncpg.Pool
) -> None:
    w: Wired = await wire(Provider.META)
    claimed = await queue(app_pool, w, OutboundText(body="a send started after the read"))
    renewed = await queue(app_pool, w, OutboundText(body="claim released and taken again"))
    stale = await queue(app_pool, w, OutboundText(body="claim never resolved"))
    unclaimed = await queue(app_pool, w, OutboundText(body="never attempted"))
    await _set(app_pool, w.tenant_id, claimed.message_id, "send_started_at = now()")
    await _set(app_pool, w.tenant_id, renewed.message_id, "send_started_at = now()")
    await _set(
        app_pool, w.tenant_id, stale.message_id, "send_started_at = now() - interval '400 s'"
    )
    async with tenant_tx(app_pool, w.tenant_id) as conn:

        async def unclaimed_fail(message: UUID) -> bool:
            row = await store.mark_failed_unclaimed(
                conn, message_id=message, error_code="x", error_reason="test"
            )
            return row is not None

        async def mark_unknown(message: UUID) -> bool:
            row = await store.mark_unknown_stale(
                conn, message_id=message, error_code="x", error_reason="test", older_than_s=300
            )
            return row is not None

        assert await unclaimed_fail(claimed.message_id) is False
        assert await unclaimed_fail(unclaimed.message_id) is True
        assert await mark_unknown(renewed.message_id) is False
        assert await mark_unknown(stale.message_id) is True
    statuses = [
        (await message_row(app_pool, w.tenant_id, r.message_id))["status"]
        for r in (claimed, renewed, stale, unclaimed)
    ]
    assert statuses == ["queued", "queued", "unknown", "failed"]


async def test_stopping_ends_the_wait_for_a_claim_and_leaves_that_claim_alone(
    wire: Callable[..., Any], sim: Sim, app_pool: asyncpg.Pool, deps: Deps
) -> None:
    w: Wired = await wire(Provider.META)
    request = await queue(app_pool, w, OutboundText(body="claimed by another process"))
    await _set(app_pool, w.tenant_id, request.message_id, "send_started_at = now()")
    claimed = (await message_row(app_pool, w.tenant_id, request.message_id))["send_started_at"]
    stopping = dataclasses.replace(deps, stop=asyncio.Event())
    received = Received(topics.OUTBOUND, 0, 0, None, b"", {}, request)
    handling = asyncio.create_task(handle_send(stopping, received, request))
    await asyncio.sleep(0.5)  # into its wait (a claim this young is never "unknown")
    assert not handling.done()
    stopping.stop.set()
    with pytest.raises(Interrupted):
        await asyncio.wait_for(handling, timeout=10)
    row = await message_row(app_pool, w.tenant_id, request.message_id)
    assert (row["status"], row["send_started_at"]) == ("queued", claimed)
    assert await sim.control.sends(account_id=w.account) == []
