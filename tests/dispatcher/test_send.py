"""Sends through the real adapters to the provider simulator, over the real broker and Postgres:
what reaches the provider, what the message row ends as, and what agents are told."""

from collections.abc import Callable
from typing import Any

import asyncpg
import pytest
from prometheus_client import REGISTRY

from config.shared import KafkaSettings, S3Settings
from contracts import MessageUpdated, Provider, SendRequested, topics
from contracts.deadletter import DeadLettered
from contracts.outbound import OutboundMedia, OutboundReaction, OutboundTemplate, OutboundText
from db.tenant import tenant_tx
from dispatcher.settings import DispatcherSettings
from dispatcher.sweep import sweep_tenant
from tests.dispatcher.conftest import (
    Dispatcher,
    Sim,
    Wired,
    new_conversation,
    publish,
    queue,
    read_topic,
    settled,
    wait_until,
)
from tests.dispatcher.outbound import integration_row, mark_read_request, message_row

PROVIDERS = [Provider.META, Provider.EVOLUTION, Provider.ZAPI]


def _skipped_done() -> float:
    value = REGISTRY.get_sample_value(
        "dispatcher_sends_total", {"provider": "meta", "outcome": "skipped_done"}
    )
    return value or 0.0


def _bodies_by_id(recorded: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["provider_message_id"]: r for r in recorded if r.get("provider_message_id")}


def _check_body(provider: Provider, kind: str, body: dict[str, Any], expect: Any) -> None:
    """The provider's own request shape for each kind (see docs/providers.md)."""
    if provider is Provider.META:
        assert body["to"] == expect["to"]
        if kind == "text":
            assert body["type"] == "text" and body["text"]["body"] == expect["text"]
        elif kind == "media":
            assert body["type"] == "image" and expect["media_key"] in body["image"]["link"]
            assert body["image"]["caption"] == expect["caption"]
        elif kind == "template":
            assert body["template"]["name"] == expect["template"]
            assert body["template"]["components"][0]["parameters"][0]["text"] == "Ana"
        elif kind == "reaction":
            assert body["reaction"] == {"message_id": expect["target"], "emoji": "👍"}
        elif kind == "reply":
            assert body["context"] == {"message_id": expect["target"]}
            assert body["text"]["body"] == expect["text"]
    elif provider is Provider.EVOLUTION:
        if kind == "text":
            assert body["number"] == expect["to"] and body["text"] == expect["text"]
        elif kind == "media":
            assert body["mediatype"] == "image" and expect["media_key"] in body["media"]
            assert body["caption"] == expect["caption"]
        elif kind == "reaction":
            assert body["reaction"] == "👍" and body["key"]["id"] == expect["target"]
        elif kind == "reply":
            assert body["quoted"] == {"key": {"id": expect["target"]}}
            assert body["text"] == expect["text"]
    else:
        assert body["phone"] == expect["to"]
        if kind == "text":
            assert body["message"] == expect["text"]
        elif kind == "media":
            assert expect["media_key"] in body["image"] and body["caption"] == expect["caption"]
        elif kind == "reaction":
            assert body["reaction"] == "👍" and body["messageId"] == expect["target"]
        elif kind == "reply":
            assert body["messageId"] == expect["target"] and body["message"] == expect["text"]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_every_kind_of_request_reaches_the_simulator_and_the_message_ends_sent(
    provider: Provider,
    wire: Callable[..., Any],
    sim: Sim,
    app_pool: asyncpg.Pool,
    kafka_settings: KafkaSettings,
    s3_settings: S3Settings,
    dispatcher: Dispatcher,
) -> None:
    w: Wired = await wire(provider)
    target = "wamid.TARGET" if provider is not Provider.EVOLUTION else "5511@s.whatsapp.net/T1"
    target_id = target.rsplit("/", 1)[-1]
    media_key = f"{w.tenant_id}/outbound/photo.png"
    requests = {
        "text": await queue(app_pool, w, OutboundText(body="Olá, tudo bem?")),
        "media": await queue(
            app_pool,
            w,
            OutboundMedia(media_type="image", media_key=media_key, mime="image/png", caption="c"),
        ),
        "template": await queue(
            app_pool,
            w,
            OutboundTemplate(name="order_update", language="pt_BR", body_params=("Ana",)),
        ),
        "reaction": await queue(
            app_pool, w, OutboundReaction(target_provider_message_id=target, emoji="👍")
        ),
        "reply": await queue(app_pool, w, OutboundText(body="respondendo"), reply_to=target),
    }
    read = mark_read_request(
        tenant_id=w.tenant_id,
        conversation_id=w.conversation_id,
        integration_id=w.integration_id,
        provider=provider,
        chat_id=w.phone,
        provider_message_id=target,
    )

    async def read_reached() -> bool:
        return bool(await sim.control.requests(account_id=w.account, endpoint="mark_read"))

    await dispatcher.run([*requests.values(), read], [w.tenant_id], done=read_reached)

    recorded = _bodies_by_id(await sim.control.sends(account_id=w.account))
    expect = {
        "to": w.phone,
        "text": None,
        "media_key": media_key,
        "caption": "c",
        "template": "order_update",
        "target": target if provider is Provider.META else target_id,
    }
    for kind, request in requests.items():
        row = await message_row(app_pool, w.tenant_id, request.message_id)
        if kind == "template" and provider is not Provider.META:
            # WhatsApp Web providers have no templates: refused before any call, and said so.
            assert row["status"] == "failed" and "template" in row["error_reason"]
            continue
        assert row["status"] == "sent", (kind, row["error_reason"])
        assert row["sent_at"] is not None
        call = recorded[row["provider_message_id"]]  # the simulator's own id is on the row
        text = request.content.body if isinstance(request.content, OutboundText) else None
        _check_body(provider, kind, call["body"], {**expect, "text": text})
    assert len(recorded) == (5 if provider is Provider.META else 4)  # each sent exactly once

    (mark,) = await sim.control.requests(account_id=w.account, endpoint="mark_read")
    assert target_id in str(mark["body"])

    # Agents are told: one message.updated per message, with the final snapshot.
    ids = {r.message_id for r in requests.values()}
    updates = await read_topic(
        kafka_settings,
        topics.REALTIME,
        lambda e: isinstance(e, MessageUpdated) and e.message.id in ids,
        want=len(ids),
    )
    assert {u.message.id for u in updates} == ids
    assert all(u.tenant_id == w.tenant_id and u.cursor is not None for u in updates)
    sent_view = next(u for u in updates if u.message.id == requests["text"].message_id)
    assert sent_view.message.status == "sent" and sent_view.message.provider_message_id


async def test_two_server_errors_then_success_sends_once_and_ends_sent(
    wire: Callable[..., Any],
    sim: Sim,
    app_pool: asyncpg.Pool,
    dispatcher: Dispatcher,
) -> None:
    w: Wired = await wire(Provider.META)
    request = await queue(app_pool, w, OutboundText(body="after two 500s"))
    await sim.control.fault(
        "error_5xx", provider=Provider.META, endpoint="send", times=2, status=500
    )
    try:
        await dispatcher.run([request], [w.tenant_id])
    finally:
        await sim.control.clear_faults()
    attempts = await sim.control.sends(account_id=w.account)
    assert [a["answered"] for a in attempts] == [500, 500, 200]
    row = await message_row(app_pool, w.tenant_id, request.message_id)
    assert row["status"] == "sent"
    assert row["provider_message_id"] == attempts[-1]["provider_message_id"]


async def test_a_rate_limit_hint_is_waited_before_the_next_attempt(
    wire: Callable[..., Any],
    sim: Sim,
    app_pool: asyncpg.Pool,
    dispatcher: Dispatcher,
) -> None:
    w: Wired = await wire(Provider.ZAPI)
    request = await queue(app_pool, w, OutboundText(body="after a 429"))
    await sim.control.fault(
        "rate_limit", provider=Provider.ZAPI, endpoint="send", times=1, retry_after_s=2
    )
    try:
        await dispatcher.run([request], [w.tenant_id])
    finally:
        await sim.control.clear_faults()
    first, second = await sim.control.sends(account_id=w.account)
    assert (first["answered"], second["answered"]) == (429, 200)
    assert second["at"] - first["at"] >= 2.0 - 0.05  # the Retry-After was honoured
    assert (await message_row(app_pool, w.tenant_id, request.message_id))["status"] == "sent"


async def test_the_24_hour_window_error_fails_at_once_saying_a_template_is_needed(
    wire: Callable[..., Any],
    sim: Sim,
    app_pool: asyncpg.Pool,
    dispatcher: Dispatcher,
) -> None:
    w: Wired = await wire(Provider.META)
    request = await queue(app_pool, w, OutboundText(body="too late"))
    await sim.control.fault("window_closed", provider=Provider.META, endpoint="send", times=1)
    try:
        await dispatcher.run([request], [w.tenant_id])
    finally:
        await sim.control.clear_faults()
    assert len(await sim.control.sends(account_id=w.account)) == 1  # no retry
    row = await message_row(app_pool, w.tenant_id, request.message_id)
    assert (row["status"], row["error_code"]) == ("failed", "window_closed")
    assert "template" in row["error_reason"] and "24-hour" in row["error_reason"]


async def test_an_expired_token_fails_the_message_and_flags_the_integration(
    wire: Callable[..., Any],
    sim: Sim,
    app_pool: asyncpg.Pool,
    dispatcher: Dispatcher,
) -> None:
    w: Wired = await wire(Provider.EVOLUTION)
    first = await queue(app_pool, w, OutboundText(body="token expired"))
    second = await queue(app_pool, w, OutboundText(body="after the flag"))
    await sim.control.fault("expired_token", provider=Provider.EVOLUTION, endpoint="send", times=1)
    try:
        await dispatcher.run([first, second], [w.tenant_id])
    finally:
        await sim.control.clear_faults()
    assert len(await sim.control.sends(account_id=w.account)) == 1
    row = await message_row(app_pool, w.tenant_id, first.message_id)
    assert (row["status"], row["error_code"]) == ("failed", "auth_failed")
    integration = await integration_row(app_pool, w.tenant_id, w.integration_id)
    assert integration["status"] == "needs_attention" and integration["status_reason"]
    # The next message does not hammer the provider with a dead token.
    after = await message_row(app_pool, w.tenant_id, second.message_id)
    assert (after["status"], after["error_code"]) == ("failed", "integration_unavailable")


async def test_after_the_last_retry_the_request_is_dead_lettered_and_the_message_failed(
    wire: Callable[..., Any],
    sim: Sim,
    app_pool: asyncpg.Pool,
    kafka_settings: KafkaSettings,
    dispatcher: Dispatcher,
) -> None:
    w: Wired = await wire(Provider.ZAPI)
    request = await queue(app_pool, w, OutboundText(body="provider down"))
    await sim.control.fault("error_5xx", provider=Provider.ZAPI, endpoint="send", times=None)
    try:
        await dispatcher.run([request], [w.tenant_id])
    finally:
        await sim.control.clear_faults()
    assert len(await sim.control.sends(account_id=w.account)) == 4  # FAST: four attempts
    row = await message_row(app_pool, w.tenant_id, request.message_id)
    assert (row["status"], row["error_code"]) == ("failed", "retries_exhausted")
    (letter,) = await read_topic(
        kafka_settings,
        topics.DEADLETTER,
        lambda e: isinstance(e, DeadLettered) and str(request.message_id) in e.value,
        want=1,
    )
    assert letter.source_topic == topics.OUTBOUND and "retries_exhausted" in letter.error


async def test_a_redelivered_request_for_a_sent_message_does_nothing(
    wire: Callable[..., Any],
    sim: Sim,
    app_pool: asyncpg.Pool,
    dispatcher: Dispatcher,
) -> None:
    w: Wired = await wire(Provider.META)
    request = await queue(app_pool, w, OutboundText(body="once"))
    before = _skipped_done()

    async def redeliveries_handled() -> bool:
        return _skipped_done() >= before + 2

    await dispatcher.run([request, request], [w.tenant_id])
    await dispatcher.run([request], [w.tenant_id], done=redeliveries_handled)
    assert len(await sim.control.sends(account_id=w.account)) == 1
    row = await message_row(app_pool, w.tenant_id, request.message_id)
    assert row["status"] == "sent"


async def test_a_conversation_goes_out_in_order_while_others_interleave(
    wire: Callable[..., Any],
    sim: Sim,
    app_pool: asyncpg.Pool,
    dispatcher: Dispatcher,
) -> None:
    w: Wired = await wire(Provider.META, rate_limit_per_s=1000)
    others = [await new_conversation(app_pool, w) for _ in range(4)]
    events: list[SendRequested] = []
    for i in range(20):
        events.append(await queue(app_pool, w, OutboundText(body=f"main {i}")))
        for n, other in enumerate(others):
            if i % 2 == 0:
                events.append(await queue(app_pool, other, OutboundText(body=f"other {n} {i}")))
    await dispatcher.run(events, [w.tenant_id])

    recorded = sorted(await sim.control.sends(account_id=w.account), key=lambda r: r["seq"])
    main = [r for r in recorded if r["body"]["to"] == w.phone]
    assert [r["body"]["text"]["body"] for r in main] == [f"main {i}" for i in range(20)]
    first, last = main[0]["seq"], main[-1]["seq"]
    interleaved = [r for r in recorded if r["body"]["to"] != w.phone and first < r["seq"] < last]
    assert interleaved, "other conversations waited for the first one to finish"
    assert len(recorded) == 20 + 4 * 10


async def test_one_tenants_burst_does_not_hold_back_another_tenant(
    wire: Callable[..., Any],
    sim: Sim,
    app_pool: asyncpg.Pool,
    dispatcher: Dispatcher,
) -> None:
    # A slow number (4 sends/s) draining a burst of 24 conversations; another tenant's message
    # published while the burst is going out reaches the provider long before the burst ends.
    busy: Wired = await wire(Provider.META, rate_limit_per_s=4)
    quiet: Wired = await wire(Provider.META)
    burst = [
        await queue(app_pool, await new_conversation(app_pool, busy), OutboundText(body=f"b{i}"))
        for i in range(24)
    ]
    lone = await queue(app_pool, quiet, OutboundText(body="not stuck behind the burst"))

    async def burst_started() -> bool:
        return len(await sim.control.sends(account_id=busy.account)) > 0

    dispatcher.tenants.update({busy.tenant_id, quiet.tenant_id})
    await publish(dispatcher.deps.publisher, burst)
    await wait_until(burst_started)
    # The session's dispatcher has four slots: lanes holding them while they wait on their
    # bucket, or a poll waiting for the burst to finish, would put the lone message last.
    await publish(dispatcher.deps.publisher, [lone])

    async def all_settled() -> bool:
        return await settled(app_pool, quiet.tenant_id, [lone.message_id]) and await settled(
            app_pool, busy.tenant_id, [e.message_id for e in burst]
        )

    await wait_until(all_settled)

    assert (await message_row(app_pool, quiet.tenant_id, lone.message_id))["status"] == "sent"
    (lone_call,) = await sim.control.sends(account_id=quiet.account)
    burst_calls = await sim.control.sends(account_id=busy.account)
    assert len(burst_calls) == 24
    before_lone = [c for c in burst_calls if c["seq"] < lone_call["seq"]]
    assert len(before_lone) <= 12, f"{len(before_lone)} of the burst went out first"


async def test_a_message_whose_request_never_reached_the_broker_is_swept_and_sent(
    wire: Callable[..., Any],
    sim: Sim,
    app_pool: asyncpg.Pool,
    dispatcher: Dispatcher,
) -> None:
    # The gateway committed the row and died before publishing: only the sweep can save it.
    w: Wired = await wire(Provider.EVOLUTION)
    lost = await queue(app_pool, w, OutboundText(body="never published"))
    async with tenant_tx(app_pool, w.tenant_id) as conn:
        await conn.execute(
            "UPDATE messages SET created_at = now() - interval '2 minutes' WHERE id = $1",
            lost.message_id,
        )
    dispatcher.tenants.add(w.tenant_id)
    await sweep_tenant(dispatcher.deps, DispatcherSettings(requeue_after_s=60), w.tenant_id)

    async def sent() -> bool:
        return await settled(app_pool, w.tenant_id, [lost.message_id])

    await wait_until(sent)
    row = await message_row(app_pool, w.tenant_id, lost.message_id)
    assert row["status"] == "sent"
    (call,) = await sim.control.sends(account_id=w.account)
    assert call["body"]["text"] == "never published" and call["body"]["number"] == w.phone
