"""A customer edits or deletes for everyone an earlier message (issue #19): the provider
simulator posts each provider's real shape to ingest-api, ingest-worker updates the message
(keeping what it replaced) and publishes ``message.updated`` for the inboxes."""

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from config.shared import DatabaseSettings, KafkaSettings
from contracts import ConversationUpdated, MessageUpdated, Provider
from credentials import Vault
from db.tenant import tenant_tx
from ingest import amend
from simulator.control import SimControl
from simulator.server import RunningSimulator, running
from tests.ingest.api_fixtures import Served, Wired, api_settings, serving, wire
from tests.ingest.conftest import eventually, fetch, realtime_for

pytestmark = pytest.mark.usefixtures("ingest_worker")


@pytest.fixture(scope="module")
def provider_sim() -> Iterator[RunningSimulator]:
    with running() as sim:
        yield sim


@pytest.fixture
async def sim(provider_sim: RunningSimulator) -> AsyncIterator[SimControl]:
    async with SimControl(provider_sim.base_url) as control:
        yield control


@pytest.fixture(scope="module")
async def served(
    db_settings: DatabaseSettings, kafka_settings: KafkaSettings, vault: Vault
) -> AsyncIterator[Served]:
    async with serving(api_settings(), db_settings, kafka_settings, vault) as running_api:
        yield running_api


@pytest.fixture
async def wired_for(
    sim: SimControl,
    served: Served,
    make_tenant: Any,
    owner_conn: asyncpg.Connection,
    vault: Vault,
) -> Any:
    async def make(provider: Provider) -> Wired:
        tenant_id = await make_tenant(f"Changes {provider.value}")
        return await wire(owner_conn, vault, sim, served.url, tenant_id, provider)

    return make


async def _row(pool: asyncpg.Pool, wired: Wired, provider_message_id: str) -> Any:
    rows = await fetch(
        pool,
        wired.integ.tenant_id,
        "SELECT * FROM messages WHERE integration_id = $1 AND provider_message_id = $2",
        wired.integ.integration_id,
        provider_message_id,
    )
    return rows[0] if rows else None


async def _post(sim: SimControl, wired: Wired, kind: str, **options: Any) -> str:
    answer = await sim.inbound(wired.integ.provider, wired.integ.account, kind, **options)
    assert answer["status"] == 200, (kind, answer)
    provider_message_id: str = answer["provider_message_id"]
    return provider_message_id


async def _preview(pool: asyncpg.Pool, wired: Wired) -> str:
    rows = await fetch(
        pool, wired.integ.tenant_id, "SELECT last_message_preview AS line FROM conversations"
    )
    line: str = rows[0]["line"]
    return line


def _updates(found: list[Any], message_id: Any) -> list[Any]:
    return [
        e.message for e in found if isinstance(e, MessageUpdated) and e.message.id == message_id
    ]


@pytest.mark.parametrize("provider", list(Provider))
async def test_an_edit_replaces_the_text_keeps_the_old_one_and_reaches_the_inbox(
    provider: Provider,
    sim: SimControl,
    wired_for: Any,
    app_pool: asyncpg.Pool,
    kafka_settings: KafkaSettings,
) -> None:
    wired = await wired_for(provider)
    original = await _post(sim, wired, "text", text="see you at 10")
    row = await eventually(lambda: _row(app_pool, wired, original), lambda r: r is not None)
    assert row["text"] == "see you at 10" and row["edited_at"] is None

    await _post(sim, wired, "edit", reply_to=original, text="see you at 11")
    row = await eventually(
        lambda: _row(app_pool, wired, original), lambda r: r["text"] == "see you at 11"
    )
    assert row["edited_at"] is not None and row["caption"] is None
    assert [e["text"] for e in row["edits"]] == ["see you at 10"]
    count = await fetch(app_pool, wired.integ.tenant_id, "SELECT count(*) AS n FROM messages")
    assert count[0]["n"] == 1  # the edit is no message of its own

    found = await realtime_for(
        kafka_settings, wired.integ.tenant_id, lambda f: bool(_updates(f, row["id"]))
    )
    [view] = _updates(found, row["id"])
    assert (view.text, view.edited_at, view.deleted_at) == ("see you at 11", row["edited_at"], None)
    assert await _preview(app_pool, wired) == "see you at 11"  # it was the latest message


async def test_an_edit_of_a_media_message_changes_its_caption(
    sim: SimControl, wired_for: Any, app_pool: asyncpg.Pool
) -> None:
    wired = await wired_for(Provider.META)
    original = await _post(sim, wired, "image", text="old caption")
    await eventually(lambda: _row(app_pool, wired, original), lambda r: r is not None)
    await _post(sim, wired, "edit", reply_to=original, text="new caption")
    row = await eventually(
        lambda: _row(app_pool, wired, original), lambda r: r["caption"] == "new caption"
    )
    assert row["text"] is None and row["media_state"] is not None
    assert [e["caption"] for e in row["edits"]] == ["old caption"]


@pytest.mark.parametrize("provider", list(Provider))
async def test_a_deleted_message_keeps_its_content_and_shows_none(
    provider: Provider,
    sim: SimControl,
    wired_for: Any,
    app_pool: asyncpg.Pool,
    kafka_settings: KafkaSettings,
) -> None:
    wired = await wired_for(provider)
    original = await _post(sim, wired, "text", text="my card number is 1234")
    await eventually(lambda: _row(app_pool, wired, original), lambda r: r is not None)
    await _post(sim, wired, "revoke", reply_to=original)
    row = await eventually(
        lambda: _row(app_pool, wired, original), lambda r: r["deleted_at"] is not None
    )
    assert row["text"] == "my card number is 1234"  # kept in the database

    def shown(found: list[Any]) -> bool:
        lines = [e.conversation for e in found if isinstance(e, ConversationUpdated)]
        deleted = any(line.last_message_preview == amend.DELETED_PREVIEW for line in lines)
        return deleted and bool(_updates(found, row["id"]))

    found = await realtime_for(kafka_settings, wired.integ.tenant_id, shown)
    [view] = _updates(found, row["id"])
    assert view.deleted_at == row["deleted_at"]
    assert view.text is None and view.caption is None and view.media is None
    # The inbox line no longer shows the deleted text either.
    assert await _preview(app_pool, wired) == amend.DELETED_PREVIEW
    assert shown(found)

    # A deleted message takes no edit.
    await _post(sim, wired, "edit", reply_to=original, text="changed my mind")
    await _post(sim, wired, "text", text="a later message")  # processed after the edit
    await eventually(
        lambda: fetch(app_pool, wired.integ.tenant_id, "SELECT id FROM messages"),
        lambda r: len(r) == 2,
    )
    after = await _row(app_pool, wired, original)
    assert after["text"] == "my card number is 1234" and after["edited_at"] is None


async def test_changes_of_unknown_or_other_side_messages_change_nothing(
    sim: SimControl, wired_for: Any, app_pool: asyncpg.Pool
) -> None:
    wired = await wired_for(Provider.META)
    await _post(sim, wired, "edit", reply_to="wamid.unknown", text="x")
    await _post(sim, wired, "revoke", reply_to="wamid.unknown")
    original = await _post(sim, wired, "text", text="kept")
    row = await eventually(lambda: _row(app_pool, wired, original), lambda r: r is not None)
    tenant = wired.integ.tenant_id
    now = datetime.now(UTC)
    async with tenant_tx(app_pool, tenant) as conn:
        # The customer cannot edit or delete what the business sent, nor the reverse.
        for side in ("outbound",):
            assert (
                await amend.apply_edit(
                    conn,
                    integration_id=wired.integ.integration_id,
                    target_provider_message_id=original,
                    direction=side,
                    text="forged",
                    edited_at=now,
                )
                is None
            )
            assert (
                await amend.apply_revoke(
                    conn,
                    integration_id=wired.integ.integration_id,
                    target_provider_message_id=original,
                    direction=side,
                    deleted_at=now,
                )
                is None
            )
        edit = {
            "integration_id": wired.integ.integration_id,
            "target_provider_message_id": original,
            "direction": "inbound",
        }
        assert await amend.apply_edit(conn, **edit, text="newer", edited_at=now) is not None
        # An older edit arriving late (or the same one again) changes nothing.
        late = now - timedelta(seconds=5)
        assert await amend.apply_edit(conn, **edit, text="older", edited_at=late) is None
        assert await amend.apply_edit(conn, **edit, text="newer", edited_at=now) is None
    after = await _row(app_pool, wired, original)
    assert after["text"] == "newer" and row["text"] == "kept"


@pytest.mark.parametrize("provider", list(Provider))
async def test_a_removed_reaction_leaves_the_message(
    provider: Provider,
    sim: SimControl,
    wired_for: Any,
    app_pool: asyncpg.Pool,
    kafka_settings: KafkaSettings,
) -> None:
    wired = await wired_for(provider)
    original = await _post(sim, wired, "text", text="thanks!")
    await eventually(lambda: _row(app_pool, wired, original), lambda r: r is not None)
    await _post(sim, wired, "reaction", reply_to=original)
    row = await eventually(lambda: _row(app_pool, wired, original), lambda r: bool(r["reactions"]))
    assert row["reactions"] == [{"emoji": "👍", "direction": "inbound"}]
    await _post(sim, wired, "reaction_removed", reply_to=original)
    row = await eventually(lambda: _row(app_pool, wired, original), lambda r: not r["reactions"])
    assert row["reactions"] == []

    def removed(found: list[Any]) -> bool:
        return any(not view.reactions for view in _updates(found, row["id"])[1:])

    found = await realtime_for(kafka_settings, wired.integ.tenant_id, removed)
    views = _updates(found, row["id"])
    assert [len(v.reactions) for v in views] == [1, 0]
