"""The worker's unit of work against the provider simulator (real adapters), Postgres (RLS), S3
and the broker: inbound attachments end stored (or failed with a reason) on their message, once."""

import asyncio
import hashlib
from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from bus.publisher import Publisher
from config.shared import KafkaSettings
from contracts import MediaFetchRequested, MediaRef, MessageType, Provider, topics
from contracts.codec import decode
from credentials import Vault
from db.tenant import tenant_tx
from media import retries
from media.attach import Attacher, attach
from media.keys import content_key
from media.storage import ObjectStore
from simulator import media as sim_media
from simulator.control import SimControl
from simulator.server import RunningSimulator
from tests.media import rows
from tests.media.conftest import credentials_for
from tests.media.realtime import updates_for
from tests.media.servers import listening

MakeTenant = Callable[..., Any]

KINDS = [
    (MessageType.IMAGE, "image/jpeg", 180_000),
    (MessageType.VIDEO, "video/mp4", 3_000_000),
    (MessageType.AUDIO, "audio/ogg", 400_000),
    (MessageType.DOCUMENT, "application/pdf", 6_000_000),
    (MessageType.STICKER, "image/webp", 90_000),
]


async def _message(
    app_pool: asyncpg.Pool,
    vault: Vault,
    tenant_id: UUID,
    control: SimControl,
    *,
    provider: Provider,
    media_id: str,
    message_type: MessageType,
    base_url: str | None = None,
    claimed: str | None = None,
    filename: str | None = None,
) -> rows.Inbound:
    """An integration registered at the simulator and a pending media message, the way the
    ingest worker leaves them after parsing that provider's webhook."""
    account = f"acct-{uuid4().hex[:12]}"
    await control.register(provider, account, access_token="tok", client_token="ct")
    integration_id = await rows.integration(
        app_pool,
        vault,
        tenant_id,
        provider=provider,
        base_url=base_url or control.base_url,
        credentials=credentials_for(provider.value, account),
        account=account,
    )
    url = control.media_url(media_id) if provider is Provider.ZAPI else None
    ref = MediaRef(provider_ref=url or media_id, url=url, mime=claimed, filename=filename)
    return await rows.inbound_media(
        app_pool, tenant_id, integration_id, provider=provider, message_type=message_type, ref=ref
    )


async def _updates(app_pool: asyncpg.Pool, tenant_id: UUID, message_id: UUID) -> list[Any]:
    async with tenant_tx(app_pool, tenant_id) as conn:
        found = await conn.fetch(
            "SELECT payload FROM realtime_events WHERE type = 'message.updated' ORDER BY seq"
        )
    return [dict(r["payload"]) for r in found if r["payload"]["message"]["id"] == str(message_id)]


async def _object_sha256(store: ObjectStore, key: str) -> str:
    return hashlib.sha256(await store.read(key)).hexdigest()


@pytest.mark.parametrize(("message_type", "mime", "size"), KINDS)
async def test_inbound_media_ends_stored_with_sniffed_type_and_hash(
    attacher: Attacher,
    store: ObjectStore,
    sim_control: SimControl,
    app_pool: asyncpg.Pool,
    vault: Vault,
    make_tenant: MakeTenant,
    message_type: MessageType,
    mime: str,
    size: int,
) -> None:
    tenant_id = await make_tenant()
    media_id = sim_media.media_id(mime, size, f"kind-{tenant_id.hex[:8]}")
    inbound = await _message(
        app_pool,
        vault,
        tenant_id,
        sim_control,
        provider=Provider.META,
        media_id=media_id,
        message_type=message_type,
        claimed="application/octet-stream",  # the provider's claim is not what is recorded
        filename="from-webhook.bin",
    )

    assert await attach(attacher, inbound.request()) == "stored"

    expected = sim_media.expected_sha256(media_id)
    row = await rows.message_row(app_pool, tenant_id, inbound.message_id)
    assert row["media_state"] == "stored"
    assert (row["media_mime"], row["media_size"], row["media_sha256"]) == (mime, size, expected)
    assert row["media_key"] == content_key(tenant_id, expected)
    assert row["media_filename"] == "from-webhook.bin"
    assert row["media_error"] is None
    assert await _object_sha256(store, row["media_key"]) == expected
    updates = await _updates(app_pool, tenant_id, inbound.message_id)
    assert [u["message"]["media"]["state"] for u in updates] == ["stored"]
    assert updates[0]["message"]["media"]["sha256"] == expected
    assert updates[0]["message"]["caption"] == "look"  # the whole message, not only media


@pytest.mark.parametrize("provider", [Provider.EVOLUTION, Provider.ZAPI])
async def test_every_providers_adapter_brings_its_media_in(
    attacher: Attacher,
    sim_control: SimControl,
    app_pool: asyncpg.Pool,
    vault: Vault,
    make_tenant: MakeTenant,
    provider: Provider,
) -> None:
    tenant_id = await make_tenant()
    media_id = sim_media.media_id("image/jpeg", 50_000, f"{provider}-{tenant_id.hex[:8]}")
    inbound = await _message(
        app_pool,
        vault,
        tenant_id,
        sim_control,
        provider=provider,
        media_id=media_id,
        message_type=MessageType.IMAGE,
    )
    assert await attach(attacher, inbound.request()) == "stored"
    row = await rows.message_row(app_pool, tenant_id, inbound.message_id)
    assert (row["media_mime"], row["media_sha256"]) == (
        "image/jpeg",
        sim_media.expected_sha256(media_id),
    )


async def test_a_redelivered_request_for_stored_media_does_nothing(
    attacher: Attacher,
    sim_control: SimControl,
    app_pool: asyncpg.Pool,
    vault: Vault,
    make_tenant: MakeTenant,
) -> None:
    tenant_id = await make_tenant()
    media_id = sim_media.media_id("image/jpeg", 5000, f"again-{tenant_id.hex[:8]}")
    inbound = await _message(
        app_pool,
        vault,
        tenant_id,
        sim_control,
        provider=Provider.META,
        media_id=media_id,
        message_type=MessageType.IMAGE,
    )
    request = inbound.request()
    assert await attach(attacher, request) == "stored"
    before = await rows.message_row(app_pool, tenant_id, inbound.message_id)

    assert await attach(attacher, request) == "skipped"
    assert await attach(attacher, inbound.request()) == "skipped"  # a second request, too

    after = await rows.message_row(app_pool, tenant_id, inbound.message_id)
    assert dict(after) == dict(before)
    assert await _fetches(sim_control, media_id) == 1
    assert len(await _updates(app_pool, tenant_id, inbound.message_id)) == 1


async def _fetches(control: SimControl, media_id: str) -> int:
    """How many times the simulator was asked for ``media_id`` (Meta's step 1)."""
    calls = await control.requests(provider="meta", endpoint="media_info")
    return sum(1 for c in calls if (c.get("body") or {}).get("media_id") == media_id)


async def test_a_redelivery_publishes_the_recorded_update_again_unchanged(
    attacher: Attacher,
    sim_control: SimControl,
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
        sim_control,
        provider=Provider.META,
        media_id=sim_media.media_id("image/jpeg", 3000, f"republish-{tenant_id.hex[:8]}"),
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


@pytest.mark.parametrize("fault", ["error_5xx", "rate_limit", "timeout"])
async def test_transient_errors_are_retried_then_stored(
    attacher: Attacher,
    sim_control: SimControl,
    app_pool: asyncpg.Pool,
    vault: Vault,
    make_tenant: MakeTenant,
    fault: str,
) -> None:
    tenant_id = await make_tenant()
    media_id = sim_media.media_id("image/jpeg", 3000, f"flaky-{fault}-{tenant_id.hex[:8]}")
    inbound = await _message(
        app_pool,
        vault,
        tenant_id,
        sim_control,
        provider=Provider.META,
        media_id=media_id,
        message_type=MessageType.IMAGE,
    )
    await sim_control.fault(
        fault, provider="meta", endpoint="media", times=2, retry_after_s=0.1, delay_s=3.0
    )
    assert await attach(attacher, inbound.request()) == "stored"
    assert await _fetches(sim_control, media_id) == 3
    row = await rows.message_row(app_pool, tenant_id, inbound.message_id)
    assert row["media_sha256"] == sim_media.expected_sha256(media_id)


async def test_a_media_still_failing_is_tried_again_later_then_stored(
    attacher: Attacher,
    sim_control: SimControl,
    app_pool: asyncpg.Pool,
    vault: Vault,
    make_tenant: MakeTenant,
    publisher: Publisher,
    kafka_settings: KafkaSettings,
) -> None:
    """A provider outage outlasting the tries at once: the attachment stays pending with the
    reason and a later try scheduled; the retrier publishes it again when due, and it is
    stored once the provider answers."""
    tenant_id = await make_tenant()
    media_id = sim_media.media_id("image/jpeg", 3000, f"down-{tenant_id.hex[:8]}")
    inbound = await _message(
        app_pool,
        vault,
        tenant_id,
        sim_control,
        provider=Provider.META,
        media_id=media_id,
        message_type=MessageType.IMAGE,
    )
    await sim_control.fault("error_5xx", provider="meta", endpoint="media", times=None)
    try:
        assert await attach(attacher, inbound.request()) == "retry_later"
    finally:
        await sim_control.clear_faults()
    assert await _fetches(sim_control, media_id) == 3  # bounded: RetryPolicy(attempts=3)
    row = await rows.message_row(app_pool, tenant_id, inbound.message_id)
    assert (row["media_state"], row["media_attempts"]) == ("pending", 1)
    assert row["media_retry_at"] is not None
    assert "will try again" in row["media_error"] and "503" in row["media_error"]
    assert (row["status"], row["caption"]) == ("received", "look")

    async with tenant_tx(app_pool, tenant_id) as conn:  # its time comes
        await conn.execute(
            "UPDATE messages SET media_retry_at = now() WHERE id = $1", inbound.message_id
        )
    ends = await _media_ends(kafka_settings)
    assert await retries.publish_due(app_pool, publisher) >= 1
    claimed = await rows.message_row(app_pool, tenant_id, inbound.message_id)
    assert claimed["media_retry_at"] is None  # taken: no other retrier publishes it again
    again = await _republished(kafka_settings, inbound.message_id, ends)
    assert await attach(attacher, again) == "stored"
    row = await rows.message_row(app_pool, tenant_id, inbound.message_id)
    assert (row["media_state"], row["media_retry_at"]) == ("stored", None)
    assert row["media_sha256"] == sim_media.expected_sha256(media_id)


async def test_a_media_failing_past_the_providers_retention_ends_failed(
    attacher: Attacher,
    sim_control: SimControl,
    app_pool: asyncpg.Pool,
    vault: Vault,
    make_tenant: MakeTenant,
) -> None:
    tenant_id = await make_tenant()
    media_id = sim_media.media_id("image/jpeg", 3000, f"gone-{tenant_id.hex[:8]}")
    inbound = await _message(
        app_pool,
        vault,
        tenant_id,
        sim_control,
        provider=Provider.META,
        media_id=media_id,
        message_type=MessageType.IMAGE,
    )
    async with tenant_tx(app_pool, tenant_id) as conn:  # received 8 days ago
        await conn.execute(
            "UPDATE messages SET created_at = now() - interval '8 days' WHERE id = $1",
            inbound.message_id,
        )
    await sim_control.fault("error_5xx", provider="meta", endpoint="media", times=None)
    try:
        assert await attach(attacher, inbound.request()) == "failed"
    finally:
        await sim_control.clear_faults()
    row = await rows.message_row(app_pool, tenant_id, inbound.message_id)
    assert row["media_state"] == "failed"
    assert "503" in row["media_error"]
    updates = await _updates(app_pool, tenant_id, inbound.message_id)
    assert updates[-1]["message"]["media"]["state"] == "failed"


async def _media_ends(settings: KafkaSettings) -> dict[TopicPartition, int]:
    """Where each partition of the media topic ends now (at or before), so what the test
    publishes next is read after it: late in a full run the topic holds every earlier test's
    records, among them deliberately undecodable ones."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap)
    await consumer.start()
    try:
        tps = [
            TopicPartition(topics.MEDIA, p)
            for p in consumer.partitions_for_topic(topics.MEDIA) or ()
        ]
        return {tp: int(end) for tp, end in (await consumer.end_offsets(tps)).items()}
    finally:
        await consumer.stop()


async def _republished(
    settings: KafkaSettings, message_id: UUID, after: dict[TopicPartition, int]
) -> MediaFetchRequested:
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap)
    await consumer.start()
    try:
        consumer.assign(list(after))
        for tp, end in after.items():
            consumer.seek(tp, end)
        async with asyncio.timeout(60):
            while True:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for record in records:
                        try:
                            event = decode(topics.MEDIA, record.value)
                        except ValidationError:
                            continue  # another test's deliberately broken record
                        if event.message_id == message_id:
                            return event  # type: ignore[no-any-return]
    finally:
        await consumer.stop()


async def test_a_permanent_error_is_not_retried(
    attacher: Attacher,
    sim_control: SimControl,
    app_pool: asyncpg.Pool,
    vault: Vault,
    make_tenant: MakeTenant,
) -> None:
    tenant_id = await make_tenant()
    media_id = f"expired-{tenant_id.hex}"  # the simulator knows no such media
    inbound = await _message(
        app_pool,
        vault,
        tenant_id,
        sim_control,
        provider=Provider.META,
        media_id=media_id,
        message_type=MessageType.IMAGE,
    )
    assert await attach(attacher, inbound.request()) == "failed"
    assert await _fetches(sim_control, media_id) == 1
    row = await rows.message_row(app_pool, tenant_id, inbound.message_id)
    assert row["media_state"] == "failed" and row["media_error"]


async def test_a_sticker_over_its_limit_is_refused_before_download(
    attacher: Attacher,
    store: ObjectStore,
    sim_control: SimControl,
    app_pool: asyncpg.Pool,
    vault: Vault,
    make_tenant: MakeTenant,
) -> None:
    tenant_id = await make_tenant()
    inbound = await _message(
        app_pool,
        vault,
        tenant_id,
        sim_control,
        provider=Provider.META,
        media_id=sim_media.media_id("image/webp", 600 * 1024, f"fat-{tenant_id.hex[:8]}"),
        message_type=MessageType.STICKER,
    )
    assert await attach(attacher, inbound.request()) == "failed"
    row = await rows.message_row(app_pool, tenant_id, inbound.message_id)
    assert "500 KB" in row["media_error"]
    listed = await store._s3.list_objects_v2(Bucket=store.bucket, Prefix=f"{tenant_id}/")
    assert listed.get("KeyCount", 0) == 0


async def test_loopback_outside_the_allowed_simulator_is_refused_without_connecting(
    attacher: Attacher,
    sim_control: SimControl,
    media_sim: RunningSimulator,
    app_pool: asyncpg.Pool,
    vault: Vault,
    make_tenant: MakeTenant,
) -> None:
    """The simulator runs on 127.0.0.1, but only its port is exempt: another local port (say, a
    database) is not reachable through a media URL, by address or by name. The integration's
    base URL names that port, so Z-API's adapter accepts the host as its own, and only the
    address rule stands between the URL and the listener."""
    tenant_id = await make_tenant()
    async with listening() as internal:
        for host in ("127.0.0.1", "localhost"):
            inbound = await _message(
                app_pool,
                vault,
                tenant_id,
                sim_control,
                provider=Provider.ZAPI,
                media_id="unused",
                message_type=MessageType.DOCUMENT,
                base_url=f"http://{host}:{internal.port}",
            )
            url = f"http://{host}:{internal.port}/latest/meta-data"
            request = inbound.request().model_copy(
                update={"media": MediaRef(provider_ref=url, url=url)}
            )
            assert await attach(attacher, request) == "failed"
            row = await rows.message_row(app_pool, tenant_id, inbound.message_id)
            assert "non-public address (127.0.0.1)" in row["media_error"]
        assert internal.accepted == 0


async def test_an_evolution_answer_over_the_kinds_limit_is_refused_without_being_read(
    attacher: Attacher,
    sim_control: SimControl,
    app_pool: asyncpg.Pool,
    vault: Vault,
    make_tenant: MakeTenant,
) -> None:
    """A 150 MB answer: 112 MB of document, over WhatsApp's 100 MB. The size Evolution declares
    before the base64 field refuses it before a byte of the file is decoded."""
    tenant_id = await make_tenant()
    media_id = sim_media.media_id("application/pdf", 112_000_000, f"huge-{tenant_id.hex[:8]}")
    inbound = await _message(
        app_pool,
        vault,
        tenant_id,
        sim_control,
        provider=Provider.EVOLUTION,
        media_id=media_id,
        message_type=MessageType.DOCUMENT,
    )
    assert await attach(attacher, inbound.request()) == "failed"
    row = await rows.message_row(app_pool, tenant_id, inbound.message_id)
    assert row["media_state"] == "failed"
    assert "larger than WhatsApp's 100 MB" in row["media_error"]
    assert row["media_key"] is None


async def test_evolution_without_the_media_fails_it_with_a_reason(
    attacher: Attacher,
    sim_control: SimControl,
    app_pool: asyncpg.Pool,
    vault: Vault,
    make_tenant: MakeTenant,
) -> None:
    """Evolution has no media for the id (HTTP 400): the message fails with the reason."""
    tenant_id = await make_tenant()
    inbound = await _message(
        app_pool,
        vault,
        tenant_id,
        sim_control,
        provider=Provider.EVOLUTION,
        media_id="not-a-simulator-media",
        message_type=MessageType.DOCUMENT,
    )
    assert await attach(attacher, inbound.request()) == "failed"
    row = await rows.message_row(app_pool, tenant_id, inbound.message_id)
    assert row["media_state"] == "failed"
    assert row["media_error"]
