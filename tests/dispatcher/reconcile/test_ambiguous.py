"""An ambiguous answer is not a retry: sends the provider took but answered badly (after the
read timeout, with a proxy's 502, with a 2xx that has no message id) reach the provider once,
end 'unknown' ("may have been sent") and are reconciled by the provider's own reports (Meta:
biz_opaque_callback_data on statuses; Evolution, Z-API: the fromMe echo)."""

import contextlib
from collections import Counter
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest

from contracts import Provider
from contracts.outbound import OutboundText
from credentials import Vault
from db.tenant import tenant_tx
from tests.dispatcher.conftest import Dispatcher, Sim, Wired, publish, queue, wait_until
from tests.dispatcher.outbound import message_row
from tests.dispatcher.reconcile.conftest import LATE_S, queue_texts, rows, wire_reporting

SENDS = {Provider.META: 67, Provider.EVOLUTION: 67, Provider.ZAPI: 66}  # 200 in all
REPORTED = {"sent", "delivered", "read"}


def _ours(provider: Provider, body: dict[str, Any]) -> str:
    """What identifies one of our messages in the send the simulator recorded."""
    if provider is Provider.META:
        return str(body["biz_opaque_callback_data"])
    return str(body["text"] if provider is Provider.EVOLUTION else body["message"])


@pytest.mark.parametrize("fault", ["late_answer", "accepted_502", "accepted_no_id"])
async def test_ambiguous_sends_reach_the_provider_once_and_end_reconciled_or_unknown(
    fault: str,
    make_tenant: Any,
    app_pool: asyncpg.Pool,
    vault: Vault,
    sim: Sim,
    ingest_url: str,
    unsure_dispatcher: Dispatcher,
) -> None:
    tenant = await make_tenant()
    wired = {p: await wire_reporting(app_pool, vault, sim, ingest_url, tenant, p) for p in SENDS}
    events: list[Any] = []
    for provider, count in SENDS.items():
        events += await queue_texts(wired[provider], count, per_conversation=4)
    for provider in SENDS:
        await sim.control.fault(
            fault, provider=provider, endpoint="send", times=None, delay_s=LATE_S
        )
    try:
        await unsure_dispatcher.run(events, [tenant])

        async def reconciled() -> bool:
            found = await rows(app_pool, tenant, [e.message_id for e in events])
            return all(r["status"] in REPORTED for r in found)

        # The echoes and statuses come after (or while) the send is answered: wait for them,
        # but judge every message below whether or not it got there.
        with contextlib.suppress(TimeoutError):
            await wait_until(reconciled, timeout_s=120)
    finally:
        await sim.control.clear_faults()

    by_id = {r["id"]: r for r in await rows(app_pool, tenant, [e.message_id for e in events])}
    for provider, reporting in wired.items():
        recorded = await sim.control.sends(provider=provider, account_id=reporting.account)
        times = Counter(_ours(provider, r["body"]) for r in recorded)
        assert set(times.values()) == {1}, f"{provider}: a message reached the provider twice"
        provider_ids = {_ours(provider, r["body"]): r["provider_message_id"] for r in recorded}
        mine = [e for e in events if e.provider is provider]
        assert len(times) == len(mine), f"{provider}: every message reached the provider"
        for event in mine:
            row = by_id[event.message_id]
            key = event.client_message_id if provider is Provider.META else event.content.body
            if row["status"] == "unknown":  # visibly "may have been sent"
                assert row["error_code"] == "outcome_unknown"
                assert "may have been sent" in row["error_reason"]
                assert row["provider_message_id"] is None
            else:
                assert row["status"] in REPORTED, (provider, row["status"])
                assert row["provider_message_id"] == provider_ids[key]
                assert row["error_code"] is None and row["error_reason"] is None
    statuses = Counter(r["status"] for r in by_id.values())
    # Every accepted send was echoed or reported, so every one was reconciled.
    assert statuses["unknown"] == 0, statuses
    async with tenant_tx(app_pool, tenant) as conn:
        outbound = await conn.fetchval("SELECT count(*) FROM messages WHERE direction = 'outbound'")
    assert outbound == len(events), "an echo made a second row"


async def test_without_news_the_message_stays_unknown_and_is_not_sent_again(
    wire: Callable[..., Any],
    app_pool: asyncpg.Pool,
    sim: Sim,
    unsure_dispatcher: Dispatcher,
) -> None:
    """No webhook ever comes (the plain ``wire`` registers none): the message stays
    'unknown'. A redelivery of its request (a replay, a rebalance) does not send it again."""
    wired: Wired = await wire(Provider.META)
    first = await queue(app_pool, wired, OutboundText(body="are you there?"))
    await sim.control.fault(
        "late_answer", provider=Provider.META, endpoint="send", times=1, delay_s=LATE_S
    )
    await unsure_dispatcher.run([first], [wired.tenant_id])
    row = await message_row(app_pool, wired.tenant_id, first.message_id)
    assert (row["status"], row["error_code"]) == ("unknown", "outcome_unknown")
    assert "may have been sent" in row["error_reason"] and row["provider_message_id"] is None

    # The same request again, then a new message in the same conversation: its lane handles
    # them in order, so once the second is sent the repeat has been dealt with.
    second = await queue(app_pool, wired, OutboundText(body="second"))
    await publish(unsure_dispatcher.deps.publisher, [first])
    await unsure_dispatcher.run([second], [wired.tenant_id])
    assert (await message_row(app_pool, wired.tenant_id, second.message_id))["status"] == "sent"
    bodies = [r["body"]["text"]["body"] for r in await sim.control.sends(account_id=wired.account)]
    assert bodies.count("are you there?") == 1
    assert (await message_row(app_pool, wired.tenant_id, first.message_id))["status"] == "unknown"
