"""The worker's unit of work against real Postgres (RLS), S3 and broker: inbound attachments end
stored (or failed with a reason) on their message, once."""

from collections.abc import Callable
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from config.shared import KafkaSettings
from contracts import MediaRef, MessageType, Provider
from credentials import Vault
from db.tenant import tenant_tx
from media.attach import Attacher, attach
from media.keys import content_key
from media.storage import ObjectStore
from tests.media import payloads, rows
from tests.media.realtime import updates_for
from tests.media.servers import Source, listening

MakeTenant = Callable[..., Any]

KINDS = [
    (MessageType.IMAGE, "jpg", 180_000, "image/jpeg"),
    (MessageType.VIDEO, "mp4", 3_000_000, "video/mp4"),
    (MessageType.AUDIO, "ogg", 400_000, "audio/ogg"),
    (MessageType.DOCUMENT, "pdf", 6_000_000, "application/pdf"),
    (MessageType.STICKER, "webp", 90_000, "image/webp"),
]


async def _message(
    app_pool: asyncpg.Pool,
    vault: Vault,
    tenant_id: UUID,
    *,
    base_url: str,
    url: str,
    message_type: MessageType,
    claimed: str | None = None,
    filename: str | None = None,
) -> rows.Inbound:
    integration_id = await rows.integration(
        app_pool,
        vault,
        tenant_id,
        provider=Provider.ZAPI,
        base_url=base_url,
        credentials={"instance_id": "i", "token": "t", "client_token": "c"},
    )
    ref = MediaRef(provider_ref=url, url=url, mime=claimed, filename=filename)
    return await rows.inbound_media(
        app_pool,
        tenant_id,
        integration_id,
        provider=Provider.ZAPI,
        message_type=message_type,
        ref=ref,
    )


async def _updates(
    app_pool: asyncpg.Pool, tenant_id: UUID, message_id: UUID
) -> list[dict[str, Any]]:
    async with tenant_tx(app_pool, tenant_id) as conn:
        found = await conn.fetch(
            "SELECT payload FROM realtime_events WHERE type = 'message.updated' ORDER BY seq"
        )
    return [dict(r["payload"]) for r in found if r["payload"]["message"]["id"] == str(message_id)]


@pytest.mark.parametrize(("message_type", "kind", "size", "mime"), KINDS)
async def test_inbound_media_ends_stored_with_sniffed_type_and_hash(
    attacher: Attacher,
    store: ObjectStore,
    source: Source,
    app_pool: asyncpg.Pool,
    vault: Vault,
    make_tenant: MakeTenant,
    message_type: MessageType,
    kind: str,
    size: int,
    mime: str,
) -> None:
    tenant_id = await make_tenant()
    seed = f"kind-{kind}-{tenant_id.hex[:8]}"
    inbound = await _message(
        app_pool,
        vault,
        tenant_id,
        base_url=source.base,
        url=source.url(kind, size, seed),
        message_type=message_type,
        claimed="application/octet-stream",  # the provider's claim is not what is recorded
        filename=f"file.{kind}",
    )

    assert await attach(attacher, inbound.request()) == "stored"

    expected = payloads.sha256_of(kind, size, seed)
    row = await rows.message_row(app_pool, tenant_id, inbound.message_id)
    assert row["media_state"] == "stored"
    assert (row["media_mime"], row["media_size"], row["media_sha256"]) == (mime, size, expected)
    assert row["media_key"] == content_key(tenant_id, expected)
    assert row["media_filename"] == f"file.{kind}"
    assert row["media_error"] is None
    assert await store.read(row["media_key"]) == payloads.whole(kind, size, seed)
    updates = await _updates(app_pool, tenant_id, inbound.message_id)
    assert [u["message"]["media"]["state"] for u in updates] == ["stored"]
    assert updates[0]["message"]["media"]["sha256"] == expected
    assert updates[0]["message"]["caption"] == "look"  # the whole message, not only media


async def test_a_redelivered_request_for_stored_media_does_nothing(
    attacher: Attacher,
    source: Source,
    app_pool: asyncpg.Pool,
    vault: Vault,
    make_tenant: MakeTenant,
) -> None:
    tenant_id = await make_tenant()
    seed = f"again-{tenant_id.hex[:8]}"
    inbound = await _message(
        app_pool,
        vault,
        tenant_id,
        base_url=source.base,
        url=source.url("jpg", 5000, seed),
        message_type=MessageType.IMAGE,
    )
    request = inbound.request()
    assert await attach(attacher, request) == "stored"
    before = await rows.message_row(app_pool, tenant_id, inbound.message_id)

    assert await attach(attacher, request) == "skipped"
    assert await attach(attacher, request) == "skipped"

    after = await rows.message_row(app_pool, tenant_id, inbound.message_id)
    assert source.hits[seed] == 1
    assert dict(after) == dict(before)
    assert len(await _updates(app_pool, tenant_id, inbound.message_id)) == 1


async def test_a_redelivery_publishes_the_recorded_update_again_unchanged(
    attacher: Attacher,
    source: Source,
    app_pool: asyncpg.Pool,
    vault: Vault,
    kafka_settings: KafkaSettings,
    make_tenant: MakeTenant,
) -> None:
    """A crash between commit and publish must not lose the update: the redelivered request
    publishes the very event the first delivery recorded (same id, same cursor)."""
    tenant_id = await make_tenant()
    inbound = await _message(
        app_pool,
        vault,
        tenant_id,
        base_url=source.base,
        url=source.url("png", 3000, f"republish-{tenant_id.hex[:8]}"),
        message_type=MessageType.IMAGE,
    )
    request = inbound.request()
    assert await attach(attacher, request) == "stored"
    assert await attach(attacher, request) == "skipped"

    published = await updates_for(kafka_settings, inbound.message_id, at_least=2)
    assert len(published) == 2
    assert published[0] == published[1]
    assert published[0].cursor is not None and published[0].tenant_id == tenant_id
    assert published[0].message.media.state == "stored"


async def test_transient_errors_are_retried_then_stored(
    attacher: Attacher,
    source: Source,
    app_pool: asyncpg.Pool,
    vault: Vault,
    make_tenant: MakeTenant,
) -> None:
    tenant_id = await make_tenant()
    seed = f"flaky-{tenant_id.hex[:8]}"
    inbound = await _message(
        app_pool,
        vault,
        tenant_id,
        base_url=source.base,
        url=f"{source.base}/flaky/2/jpg/3000/{seed}",
        message_type=MessageType.IMAGE,
    )
    assert await attach(attacher, inbound.request()) == "stored"
    assert source.hits[seed] == 3
    row = await rows.message_row(app_pool, tenant_id, inbound.message_id)
    assert row["media_sha256"] == payloads.sha256_of("jpg", 3000, seed)


async def test_a_media_that_cannot_be_fetched_ends_failed_and_the_message_stays(
    attacher: Attacher,
    source: Source,
    app_pool: asyncpg.Pool,
    vault: Vault,
    make_tenant: MakeTenant,
) -> None:
    tenant_id = await make_tenant()
    seed = f"down-{tenant_id.hex[:8]}"
    inbound = await _message(
        app_pool,
        vault,
        tenant_id,
        base_url=source.base,
        url=f"{source.base}/flaky/99/jpg/3000/{seed}",
        message_type=MessageType.IMAGE,
    )
    assert await attach(attacher, inbound.request()) == "failed"
    assert source.hits[seed] == 3  # bounded: RetryPolicy(attempts=3)
    row = await rows.message_row(app_pool, tenant_id, inbound.message_id)
    assert row["media_state"] == "failed"
    assert "503" in row["media_error"]
    assert (row["status"], row["caption"]) == ("received", "look")
    updates = await _updates(app_pool, tenant_id, inbound.message_id)
    assert updates[-1]["message"]["media"]["state"] == "failed"


async def test_a_permanent_error_is_not_retried(
    attacher: Attacher,
    source: Source,
    app_pool: asyncpg.Pool,
    vault: Vault,
    make_tenant: MakeTenant,
) -> None:
    tenant_id = await make_tenant()
    seed = f"gone-{tenant_id.hex[:8]}"
    inbound = await _message(
        app_pool,
        vault,
        tenant_id,
        base_url=source.base,
        url=f"{source.base}/gone/{seed}",
        message_type=MessageType.IMAGE,
    )
    assert await attach(attacher, inbound.request()) == "failed"
    assert source.hits[seed] == 1


async def test_a_sticker_over_its_limit_is_refused(
    attacher: Attacher,
    store: ObjectStore,
    source: Source,
    app_pool: asyncpg.Pool,
    vault: Vault,
    make_tenant: MakeTenant,
) -> None:
    tenant_id = await make_tenant()
    inbound = await _message(
        app_pool,
        vault,
        tenant_id,
        base_url=source.base,
        url=source.url("webp", 600 * 1024, f"fat-{tenant_id.hex[:8]}"),
        message_type=MessageType.STICKER,
    )
    assert await attach(attacher, inbound.request()) == "failed"
    row = await rows.message_row(app_pool, tenant_id, inbound.message_id)
    assert "500 KB" in row["media_error"]
    listed = await store._s3.list_objects_v2(Bucket=store.bucket, Prefix=f"{tenant_id}/")
    assert listed.get("KeyCount", 0) == 0


async def test_loopback_outside_the_allowed_simulator_is_refused_without_connecting(
    attacher: Attacher,
    source: Source,
    app_pool: asyncpg.Pool,
    vault: Vault,
    make_tenant: MakeTenant,
) -> None:
    """127.0.0.1 is the source's host, but only the source's port is exempt: another local
    port (say, a database) is not reachable through a media URL, by address or by name."""
    tenant_id = await make_tenant()
    async with listening() as internal:
        for host in ("127.0.0.1", "localhost"):
            inbound = await _message(
                app_pool,
                vault,
                tenant_id,
                base_url=f"http://{host}:{internal.port}",
                url=f"http://{host}:{internal.port}/latest/meta-data",
                message_type=MessageType.DOCUMENT,
            )
            assert await attach(attacher, inbound.request()) == "failed"
            row = await rows.message_row(app_pool, tenant_id, inbound.message_id)
            assert "non-public address (127.0.0.1)" in row["media_error"]
        assert internal.accepted == 0
