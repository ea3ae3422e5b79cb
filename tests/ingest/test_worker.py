"""ingest-worker against the real broker and Postgres: contract events published straight to
the inbound topic become rows, realtime events and media fetch requests, exactly once."""

from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from bus.publisher import Publisher
from config.shared import KafkaSettings
from contracts import (
    ContactCard,
    Location,
    MessageCreated,
    MessageStatus,
    MessageType,
    MessageUpdated,
    Reaction,
    StatusReported,
)
from contracts.inbound import MediaRef
from credentials import Vault
from tests.ingest.conftest import Integration, create_integration, eventually, fetch, realtime_for
from tests.ingest.events import inbound, keyed, status, webhook

pytestmark = pytest.mark.usefixtures("ingest_worker")


@pytest.fixture
async def integ(make_tenant: Any, owner_conn: asyncpg.Connection, vault: Vault) -> Integration:
    tenant_id = await make_tenant("Ingest worker")
    return await create_integration(
        owner_conn, vault, tenant_id, "meta", f"pn-{uuid4().hex[:12]}", {"access_token": "t"}
    )


async def _messages(pool: asyncpg.Pool, integ: Integration) -> list[asyncpg.Record]:
    return await fetch(
        pool,
        integ.tenant_id,
        "SELECT * FROM messages WHERE integration_id = $1 ORDER BY provider_timestamp",
        integ.integration_id,
    )


async def test_each_message_type_becomes_one_row_and_a_realtime_event(
    integ: Integration, app_pool: asyncpg.Pool, kafka_settings: KafkaSettings
) -> None:
    media = MediaRef(provider_ref="media-1", mime="image/jpeg", size=10)
    events = [
        inbound(integ, "w-text", text="Olá", seconds=1),
        inbound(integ, "w-img", type_=MessageType.IMAGE, media=media, caption="foto", seconds=2),
        inbound(
            integ,
            "w-loc",
            type_=MessageType.LOCATION,
            location=Location(latitude=1.5, longitude=2.5, name="Loja"),
            seconds=3,
        ),
        inbound(
            integ,
            "w-card",
            type_=MessageType.CONTACTS,
            contacts=(ContactCard(name="Bia", phones=("+55",)),),
            seconds=4,
        ),
        inbound(integ, "w-quote", text="re", reply_to_provider_message_id="w-text", seconds=5),
    ]
    async with Publisher(kafka_settings) as publisher:
        await publisher.publish_many(keyed(integ, *events))
    rows = await eventually(lambda: _messages(app_pool, integ), lambda r: len(r) == 5)
    by_id = {r["provider_message_id"]: r for r in rows}
    assert len(rows) == 5
    assert by_id["w-text"]["text"] == "Olá" and by_id["w-text"]["direction"] == "inbound"
    assert by_id["w-text"]["sender_name"] == "Ana" and by_id["w-text"]["status"] == "received"
    assert by_id["w-img"]["type"] == "image" and by_id["w-img"]["caption"] == "foto"
    assert by_id["w-img"]["media_state"] == "pending"
    assert by_id["w-img"]["media_provider_ref"] == "media-1"
    assert by_id["w-loc"]["content"]["location"]["name"] == "Loja"
    assert by_id["w-card"]["content"]["contacts"][0]["name"] == "Bia"
    assert by_id["w-quote"]["reply_to_message_id"] == by_id["w-text"]["id"]
    assert len({r["conversation_id"] for r in rows}) == 1

    conv = await fetch(app_pool, integ.tenant_id, "SELECT * FROM conversations")
    assert conv[0]["unread_count"] == 5 and conv[0]["last_message_preview"] == "re"
    assert conv[0]["last_inbound_provider_message_id"] == "w-quote"

    created = await realtime_for(
        kafka_settings,
        integ.tenant_id,
        lambda found: sum(isinstance(e, MessageCreated) for e in found) >= 5,
    )
    assert {e.message.provider_message_id for e in created if isinstance(e, MessageCreated)} == {
        "w-text",
        "w-img",
        "w-loc",
        "w-card",
        "w-quote",
    }
    # Each new message's event happened when its webhook came in: what the gateway measures
    # webhook → websocket frame from (gateway_event_to_frame_seconds).
    received_at = {e.message.provider_message_id: e.occurred_at for e in events}
    for e in created:
        if isinstance(e, MessageCreated):
            assert e.occurred_at == received_at[e.message.provider_message_id]


async def test_same_event_five_times_makes_one_row(
    integ: Integration, app_pool: asyncpg.Pool, kafka_settings: KafkaSettings
) -> None:
    event = inbound(integ, "w-dup")
    other_delivery = inbound(integ, "w-dup")  # the provider retried: a new event, same id
    async with Publisher(kafka_settings) as publisher:
        await publisher.publish_many(keyed(integ, event))
        await eventually(lambda: _messages(app_pool, integ), lambda r: len(r) == 1)
        # Redelivered after its commit (as after a crash before the offset commit).
        for _ in range(3):
            await publisher.publish_many(keyed(integ, event))
        await publisher.publish_many(keyed(integ, other_delivery, inbound(integ, "w-after")))
    rows = await eventually(lambda: _messages(app_pool, integ), lambda r: len(r) >= 2)
    assert sorted(r["provider_message_id"] for r in rows) == ["w-after", "w-dup"]
    conv = await fetch(app_pool, integ.tenant_id, "SELECT unread_count FROM conversations")
    assert conv[0]["unread_count"] == 2
    # Redeliveries of the same event re-publish its recorded events (same event id, cursor).
    found = await realtime_for(
        kafka_settings,
        integ.tenant_id,
        lambda f: sum(isinstance(e, MessageCreated) for e in f) >= 5,
        timeout_s=10,
    )
    created = [e for e in found if isinstance(e, MessageCreated)]
    dup = [e for e in created if e.message.provider_message_id == "w-dup"]
    assert len(dup) == 4 and len({(e.event_id, e.cursor) for e in dup}) == 1


async def _outbound_message(
    pool: asyncpg.Pool, integ: Integration, provider_message_id: str | None
) -> UUID:
    """An outbound message as the dispatcher writes it, in the integration's conversation."""
    rows = await fetch(
        pool,
        integ.tenant_id,
        """
        INSERT INTO messages (tenant_id, conversation_id, integration_id, direction, type,
                              status, provider_message_id, client_message_id, text)
        SELECT $1, id, $2, 'outbound', 'text', 'queued', $3, $4, 'hi' FROM conversations
        WHERE integration_id = $2 RETURNING id
        """,
        integ.tenant_id,
        integ.integration_id,
        provider_message_id,
        uuid4().hex,
    )
    return rows[0]["id"]


async def test_statuses_out_of_order_and_duplicated_end_at_the_highest(
    integ: Integration, app_pool: asyncpg.Pool, kafka_settings: KafkaSettings
) -> None:
    async with Publisher(kafka_settings) as publisher:
        await publisher.publish_many(keyed(integ, inbound(integ, "w-in")))
        await eventually(lambda: _messages(app_pool, integ), lambda r: len(r) == 1)
        message_id = await _outbound_message(app_pool, integ, "w-out")
        await publisher.publish_many(
            keyed(
                integ,
                status(integ, "w-out", MessageStatus.READ, seconds=3),
                status(integ, "w-out", MessageStatus.SENT, seconds=1),
                status(integ, "w-out", MessageStatus.DELIVERED, seconds=2),
                status(integ, "w-out", MessageStatus.DELIVERED, seconds=2),
                status(integ, "w-out", MessageStatus.FAILED, seconds=4),
                webhook(integ, '{"marker": true}'),
            )
        )
    logs = await eventually(
        lambda: fetch(app_pool, integ.tenant_id, "SELECT outcome FROM webhook_logs"),
        lambda r: len(r) == 1,
    )
    assert [r["outcome"] for r in logs] == ["accepted"]
    row = (
        await fetch(app_pool, integ.tenant_id, "SELECT * FROM messages WHERE id=$1", message_id)
    )[0]
    assert row["status"] == "read"
    assert row["read_at"] is not None and row["failed_at"] is None


async def _park_then_store_id(
    publisher: Publisher,
    pool: asyncpg.Pool,
    integ: Integration,
    provider_message_id: str,
    early: StatusReported,
) -> UUID:
    """An outbound message whose status ``early`` arrives (and is parked) before the
    dispatcher stores the provider's id; then the id is stored, as the send returns."""
    await publisher.publish_many(keyed(integ, inbound(integ, f"in-{provider_message_id}")))
    await eventually(lambda: _messages(pool, integ), lambda r: len(r) == 1)
    message_id = await _outbound_message(pool, integ, None)
    await publisher.publish_many(keyed(integ, early))
    await eventually(
        lambda: fetch(pool, integ.tenant_id, "SELECT * FROM parked_statuses"),
        lambda r: len(r) == 1,
    )
    await fetch(
        pool,
        integ.tenant_id,
        "UPDATE messages SET provider_message_id = $2, status = 'sent' WHERE id = $1",
        message_id,
        provider_message_id,
    )
    return message_id


async def test_a_status_before_the_send_response_is_parked_then_applied(
    integ: Integration, app_pool: asyncpg.Pool, kafka_settings: KafkaSettings
) -> None:
    async with Publisher(kafka_settings) as publisher:
        message_id = await _park_then_store_id(
            publisher, app_pool, integ, "w-late", status(integ, "w-late", MessageStatus.DELIVERED)
        )
    rows = await eventually(
        lambda: fetch(
            app_pool, integ.tenant_id, "SELECT status FROM messages WHERE id=$1", message_id
        ),
        lambda r: r[0]["status"] == "delivered",
    )
    assert rows[0]["status"] == "delivered"
    assert await fetch(app_pool, integ.tenant_id, "SELECT * FROM parked_statuses") == []


async def test_a_parked_status_goes_before_a_later_status_of_the_same_message(
    integ: Integration, app_pool: asyncpg.Pool, kafka_settings: KafkaSettings
) -> None:
    """delivered is parked (the send's id is not stored yet); read arrives right after the id
    is: agents see delivered, then read, not read alone."""
    async with Publisher(kafka_settings) as publisher:
        delivered = status(integ, "w-fast", MessageStatus.DELIVERED, seconds=1)
        message_id = await _park_then_store_id(publisher, app_pool, integ, "w-fast", delivered)
        read = status(integ, "w-fast", MessageStatus.READ, seconds=2)
        await publisher.publish_many(keyed(integ, read))

    def seen(feed: list[Any]) -> list[str]:
        return [
            e.message.status.value
            for e in feed
            if isinstance(e, MessageUpdated) and e.message.id == message_id
        ]

    feed = await realtime_for(kafka_settings, integ.tenant_id, lambda f: "read" in seen(f))
    assert seen(feed) == ["delivered", "read"]
    assert await fetch(app_pool, integ.tenant_id, "SELECT * FROM parked_statuses") == []


async def test_reactions_attach_to_their_target_and_can_be_removed(
    integ: Integration, app_pool: asyncpg.Pool, kafka_settings: KafkaSettings
) -> None:
    react = Reaction(target_provider_message_id="w-target", emoji="👍")
    unreact = Reaction(target_provider_message_id="w-target", emoji="")
    async with Publisher(kafka_settings) as publisher:
        await publisher.publish_many(
            keyed(
                integ,
                inbound(integ, "w-target"),
                inbound(integ, "w-r1", type_=MessageType.REACTION, reaction=react),
            )
        )
        rows = await eventually(
            lambda: _messages(app_pool, integ), lambda r: bool(r and r[0]["reactions"])
        )
        assert [r["provider_message_id"] for r in rows] == ["w-target"]
        assert rows[0]["reactions"] == [{"emoji": "👍", "direction": "inbound"}]
        await publisher.publish_many(
            keyed(integ, inbound(integ, "w-r2", type_=MessageType.REACTION, reaction=unreact))
        )
    rows = await eventually(lambda: _messages(app_pool, integ), lambda r: not r[0]["reactions"])
    assert rows[0]["reactions"] == []
    updates = await realtime_for(
        kafka_settings,
        integ.tenant_id,
        lambda f: sum(isinstance(e, MessageUpdated) for e in f) >= 2,
        timeout_s=10,
    )
    assert sum(isinstance(e, MessageUpdated) for e in updates) == 2
