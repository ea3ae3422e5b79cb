"""An echo is the same message: when the provider reports our send before its answer arrives
(Evolution / Z-API: the fromMe echo; Meta: a status naming our client message id), or echoes
it after the dispatcher stored the id, the conversation shows one message, with the provider
id, whose statuses move on and to which replies and reactions attach."""

from collections.abc import Callable
from typing import Any

import asyncpg
import pytest
from prometheus_client import REGISTRY

from contracts import Provider
from contracts.outbound import OutboundText
from credentials import Vault
from db.tenant import tenant_tx
from tests.dispatcher.conftest import Dispatcher, Sim, queue, wait_until
from tests.dispatcher.reconcile.conftest import wire_reporting

# The echo is posted (and acknowledged by ingest-api) this long before the send's answer:
# ingest-worker has that long to apply it (patient_dispatcher waits longer for the answer).
ECHO_LEAD_S = 20.0  # a loaded 2-core machine has taken more than 8 s


def _sent(provider: Provider) -> float:
    labels = {"provider": provider.value, "outcome": "sent"}
    return REGISTRY.get_sample_value("dispatcher_sends_total", labels) or 0.0


async def _outbound(pool: asyncpg.Pool, tenant_id: Any, conversation_id: Any) -> list[Any]:
    async with tenant_tx(pool, tenant_id) as conn:
        return list(
            await conn.fetch(
                "SELECT * FROM messages WHERE conversation_id = $1 AND direction = 'outbound'",
                conversation_id,
            )
        )


@pytest.mark.parametrize("provider", list(Provider))
@pytest.mark.parametrize("order", ["echo_first", "answer_first"])
async def test_the_echo_of_a_send_is_the_same_message(
    provider: Provider,
    order: str,
    make_tenant: Callable[..., Any],
    app_pool: asyncpg.Pool,
    vault: Vault,
    sim: Sim,
    ingest_url: str,
    patient_dispatcher: Dispatcher,
) -> None:
    tenant = await make_tenant()
    reporting = await wire_reporting(app_pool, vault, sim, ingest_url, tenant, provider, echo=True)
    wired = await reporting.conversation()
    event = await queue(app_pool, wired, OutboundText(body=f"hello from {provider.value}"))
    if order == "echo_first":
        await sim.control.fault(
            "echo_first", provider=provider, endpoint="send", delay_s=ECHO_LEAD_S
        )
    sent_before = _sent(provider)
    await patient_dispatcher.run([event], [tenant])
    if order == "echo_first":
        # run() returns once the message is no longer queued: here the echo did that, while
        # the provider's answer was still held back.
        row = (await _outbound(app_pool, tenant, wired.conversation_id))[0]
        assert _sent(provider) == sent_before and row["provider_message_id"] is not None

    async def answered() -> bool:  # the dispatcher has recorded the provider's answer
        return _sent(provider) > sent_before

    await wait_until(answered, timeout_s=60)
    recorded = await sim.control.sends(account_id=reporting.account)
    assert len(recorded) == 1
    provider_id = recorded[0]["provider_message_id"]

    async def read() -> bool:
        rows = await _outbound(app_pool, tenant, wired.conversation_id)
        return len(rows) == 1 and rows[0]["status"] == "read"

    await wait_until(read, timeout_s=60)
    (row,) = await _outbound(app_pool, tenant, wired.conversation_id)
    assert row["id"] == event.message_id and row["provider_message_id"] == provider_id
    assert row["error_code"] is None and row["sent_at"] is not None

    # The customer replies to it and reacts to it: both find the message by the provider id.
    phone = wired.phone.split("@")[0]
    reply = await sim.control.inbound(
        provider, reporting.account, "text", phone=phone, reply_to=provider_id
    )
    await sim.control.inbound(
        provider, reporting.account, "reaction", phone=phone, reply_to=provider_id
    )

    async def linked() -> bool:
        async with tenant_tx(app_pool, tenant) as conn:
            target = await conn.fetchval(
                "SELECT reply_to_message_id FROM messages WHERE provider_message_id = $1",
                reply["provider_message_id"],
            )
            reactions = await conn.fetchval(
                "SELECT reactions FROM messages WHERE id = $1", event.message_id
            )
        return target == event.message_id and bool(reactions)

    await wait_until(linked, timeout_s=60)
    assert len(await _outbound(app_pool, tenant, wired.conversation_id)) == 1
