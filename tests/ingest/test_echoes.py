"""ingest-worker finds our own outbound message again when the provider reports it before (or
instead of) the send's answer: a fromMe echo matched by conversation and content, a Meta status
matched by our client message id. The message takes the provider id and moves on; no second
row appears, and a message typed on the phone still becomes its own row."""

from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from bus.publisher import Publisher
from config.shared import KafkaSettings
from contracts import MessageStatus
from credentials import Vault
from tests.ingest.conftest import Integration, create_integration, eventually, fetch
from tests.ingest.events import inbound, keyed, status

pytestmark = pytest.mark.usefixtures("ingest_worker")

CHAT = "5511999990000"


@pytest.fixture
async def integ(make_tenant: Any, owner_conn: asyncpg.Connection, vault: Vault) -> Integration:
    tenant_id = await make_tenant("Echoes")
    return await create_integration(
        owner_conn, vault, tenant_id, "zapi", f"z-{uuid4().hex[:12]}", {"token": "t"}
    )


async def _conversation(publisher: Publisher, pool: asyncpg.Pool, integ: Integration) -> None:
    """The customer wrote first: the conversation exists."""
    await publisher.publish_many(keyed(integ, inbound(integ, f"in-{uuid4().hex[:8]}")))
    await eventually(
        lambda: fetch(pool, integ.tenant_id, "SELECT id FROM conversations"), lambda r: len(r) == 1
    )


async def _ours(
    pool: asyncpg.Pool, integ: Integration, text: str, status: str, claimed: bool = True
) -> tuple[UUID, str]:
    """An outbound message as the dispatcher leaves it: 'unknown', or queued with its claim."""
    client_id = f"c-{uuid4().hex}"
    rows = await fetch(
        pool,
        integ.tenant_id,
        """
        INSERT INTO messages (tenant_id, conversation_id, integration_id, direction, type,
                              status, client_message_id, text, send_started_at, error_code,
                              error_reason)
        SELECT $1, id, $2, 'outbound', 'text', $3, $4, $5,
               CASE WHEN $6 THEN now() END,
               CASE WHEN $3 = 'unknown' THEN 'outcome_unknown' END,
               CASE WHEN $3 = 'unknown' THEN 'may have been sent' END
          FROM conversations WHERE integration_id = $2 RETURNING id
        """,
        integ.tenant_id,
        integ.integration_id,
        status,
        client_id,
        text,
        claimed,
    )
    return rows[0]["id"], client_id


def _echo(integ: Integration, provider_message_id: str, text: str, seconds: int = 5) -> Any:
    return inbound(
        integ,
        provider_message_id,
        chat=CHAT,
        name=None,
        text=text,
        seconds=seconds,
        from_me=True,
        direction="outbound_echo",
    )


async def _outbound(pool: asyncpg.Pool, integ: Integration) -> list[asyncpg.Record]:
    return await fetch(
        pool,
        integ.tenant_id,
        "SELECT * FROM messages WHERE direction = 'outbound' ORDER BY created_at",
    )


async def test_an_echo_attaches_to_the_unknown_message_and_later_statuses_follow(
    integ: Integration, app_pool: asyncpg.Pool, kafka_settings: KafkaSettings
) -> None:
    async with Publisher(kafka_settings) as publisher:
        await _conversation(publisher, app_pool, integ)
        unknown, _ = await _ours(app_pool, integ, "the price is 10", "unknown")
        in_flight, _ = await _ours(app_pool, integ, "see you", "queued")
        # A delivered status before the echo is parked, then applied when the echo names it.
        await publisher.publish_many(
            keyed(
                integ,
                status(integ, "z-1", MessageStatus.DELIVERED, seconds=6),
                _echo(integ, "z-1", "the price is 10"),
                _echo(integ, "z-2", "see you"),
                _echo(integ, "z-2", "see you"),  # the provider repeats its webhook
                _echo(integ, "z-3", "typed on the phone"),
            )
        )
        rows = await eventually(
            lambda: _outbound(app_pool, integ),
            lambda r: len(r) == 3 and r[0]["status"] == "delivered",
        )
    by_id = {r["id"]: r for r in rows}
    assert (by_id[unknown]["provider_message_id"], by_id[unknown]["status"]) == ("z-1", "delivered")
    assert by_id[unknown]["error_code"] is None and by_id[unknown]["error_reason"] is None
    assert (by_id[in_flight]["provider_message_id"], by_id[in_flight]["status"]) == ("z-2", "sent")
    phone = [r for r in rows if r["id"] not in (unknown, in_flight)]
    assert [(r["provider_message_id"], r["text"]) for r in phone] == [("z-3", "typed on the phone")]
    assert await fetch(app_pool, integ.tenant_id, "SELECT * FROM parked_statuses") == []


async def test_an_echo_never_takes_a_message_that_was_not_sent(
    integ: Integration, app_pool: asyncpg.Pool, kafka_settings: KafkaSettings
) -> None:
    """Queued without a claim: the dispatcher has not called the provider, so an echo with
    the same text is another message (the business typed it on the phone)."""
    async with Publisher(kafka_settings) as publisher:
        await _conversation(publisher, app_pool, integ)
        waiting, _ = await _ours(app_pool, integ, "same words", "queued", claimed=False)
        await publisher.publish_many(keyed(integ, _echo(integ, "z-9", "same words")))
        rows = await eventually(lambda: _outbound(app_pool, integ), lambda r: len(r) == 2)
    mine = next(r for r in rows if r["id"] == waiting)
    assert (mine["status"], mine["provider_message_id"]) == ("queued", None)


async def test_a_status_naming_our_client_id_attaches_the_provider_id(
    make_tenant: Any,
    owner_conn: asyncpg.Connection,
    vault: Vault,
    app_pool: asyncpg.Pool,
    kafka_settings: KafkaSettings,
) -> None:
    tenant_id = await make_tenant("Meta echoes")
    integ = await create_integration(
        owner_conn, vault, tenant_id, "meta", f"pn-{uuid4().hex[:12]}", {"access_token": "t"}
    )
    async with Publisher(kafka_settings) as publisher:
        await _conversation(publisher, app_pool, integ)
        message_id, client_id = await _ours(app_pool, integ, "hello", "unknown")
        sent = status(integ, "wamid.A", MessageStatus.SENT, seconds=1)
        read = status(integ, "wamid.A", MessageStatus.READ, seconds=3)
        await publisher.publish_many(
            keyed(
                integ,
                sent.model_copy(update={"client_message_id": client_id}),
                # Another client id: not ours, parked as before.
                status(integ, "wamid.B", MessageStatus.SENT).model_copy(
                    update={"client_message_id": "someone-else"}
                ),
                read.model_copy(update={"client_message_id": client_id}),
            )
        )
        rows = await eventually(
            lambda: _outbound(app_pool, integ), lambda r: r[0]["status"] == "read"
        )
    (row,) = rows
    assert (row["id"], row["provider_message_id"], row["error_code"]) == (
        message_id,
        "wamid.A",
        None,
    )
    parked = await fetch(app_pool, tenant_id, "SELECT provider_message_id FROM parked_statuses")
    assert [p["provider_message_id"] for p in parked] == ["wamid.B"]
