"""media-worker and media-api as their own processes (``omni run ...``): the worker consumes the
media topic, stores a 50 MB document while its memory grows by a small fraction of the file,
publishes the realtime update; both stop cleanly on SIGTERM."""

import asyncio
import hashlib
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import psutil  # type: ignore[import-untyped]
import pytest

from bus.publisher import Publisher
from config.shared import KafkaSettings
from contracts import MediaRef, MessageType, Provider, topics
from credentials import Vault
from devstack.process import free_port
from media.storage import ObjectStore
from simulator import media as sim_media
from simulator.control import SimControl
from simulator.server import RunningSimulator
from tests.media import rows
from tests.media.conftest import credentials_for, sim_exemption
from tests.media.processes import PeakRss, high_water_mark, ready, spawn_worker, stop, wait_state
from tests.media.realtime import updates_for

MakeTenant = Callable[..., Any]

BIG = 50 * 1024 * 1024


@pytest.fixture
def worker_process(
    stack_env: dict[str, str], media_sim: RunningSimulator
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    env = {
        **stack_env,
        "PROVIDER_EGRESS_ALLOW": sim_exemption(media_sim),
        "MEDIA_CONCURRENCY": "2",
    }
    process, ops_port = spawn_worker(env)
    try:
        yield process, ops_port
    finally:
        stop(process)


async def _document(
    pool: asyncpg.Pool, vault: Vault, tenant_id: UUID, control: SimControl, media_id: str
) -> rows.Inbound:
    """A Meta document message pending in the database, its media served by the simulator."""
    account = f"pn-{uuid4().hex[:12]}"
    await control.register(Provider.META, account, access_token="tok")
    integration_id = await rows.integration(
        pool,
        vault,
        tenant_id,
        provider=Provider.META,
        base_url=control.base_url,
        credentials=credentials_for("meta", account),
        account=account,
    )
    return await rows.inbound_media(
        pool,
        tenant_id,
        integration_id,
        provider=Provider.META,
        message_type=MessageType.DOCUMENT,
        ref=MediaRef(provider_ref=media_id, mime="application/pdf", filename="contract.pdf"),
    )


async def test_a_50_mb_document_is_stored_with_memory_far_below_its_size(
    worker_process: tuple[subprocess.Popen[bytes], int],
    sim_control: SimControl,
    app_pool: asyncpg.Pool,
    vault: Vault,
    kafka_settings: KafkaSettings,
    publisher: Publisher,
    make_tenant: MakeTenant,
) -> None:
    process, ops_port = worker_process
    await ready(ops_port, process)
    tenant_id = await make_tenant()

    # Warm-up: a file of two parts, so imports, pools, the consumer group and the multipart
    # path are settled first.
    warm_id = sim_media.media_id("application/pdf", 6 * 1024 * 1024, f"warm-{tenant_id}")
    small = await _document(app_pool, vault, tenant_id, sim_control, warm_id)
    await publisher.publish(topics.MEDIA, small.request(), key=str(small.message_id))
    assert (await wait_state(app_pool, small))["media_state"] == "stored"
    baseline = psutil.Process(process.pid).memory_info().rss

    big_id = sim_media.media_id("application/pdf", BIG, f"big-{tenant_id}")
    big = await _document(app_pool, vault, tenant_id, sim_control, big_id)
    with PeakRss(process.pid) as sampler:
        await publisher.publish(topics.MEDIA, big.request(), key=str(big.message_id))
        row = await wait_state(app_pool, big)

    assert row["media_state"] == "stored", row["media_error"]
    assert row["media_size"] == BIG
    assert row["media_sha256"] == sim_media.expected_sha256(big_id)
    growth = sampler.peak - baseline
    print(
        f"\nmedia-worker RSS: baseline {baseline / 2**20:.1f} MiB, peak {sampler.peak / 2**20:.1f} "
        f"MiB, growth {growth / 2**20:.1f} MiB for a {BIG / 2**20:.0f} MiB document"
    )
    assert growth < 0.25 * BIG

    (update,) = await updates_for(kafka_settings, big.message_id, at_least=1)
    assert update.message.media.state == "stored"
    assert update.tenant_id == tenant_id

    process.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(process.wait, 30) == 0


# The largest Evolution answer a document can make: WhatsApp's 100 MB limit, as base64 in JSON.
EVOLUTION_BIG = 100 * 1024 * 1024


async def _evolution_document(
    pool: asyncpg.Pool, vault: Vault, tenant_id: UUID, control: SimControl, media_id: str
) -> rows.Inbound:
    """An Evolution document message pending in the database; the simulator answers its
    getBase64FromMediaMessage with the file inline."""
    instance = f"inst-{uuid4().hex[:12]}"
    await control.register(Provider.EVOLUTION, instance, access_token="tok")
    integration_id = await rows.integration(
        pool,
        vault,
        tenant_id,
        provider=Provider.EVOLUTION,
        base_url=control.base_url,
        credentials=credentials_for("evolution", instance),
        account=instance,
    )
    return await rows.inbound_media(
        pool,
        tenant_id,
        integration_id,
        provider=Provider.EVOLUTION,
        message_type=MessageType.DOCUMENT,
        ref=MediaRef(provider_ref=f"5511@s.whatsapp.net/{media_id}", mime="application/pdf"),
    )


@pytest.mark.timeout(600)
async def test_a_100_mb_evolution_document_is_decoded_as_a_stream_in_bounded_memory(
    worker_process: tuple[subprocess.Popen[bytes], int],
    sim_control: SimControl,
    app_pool: asyncpg.Pool,
    vault: Vault,
    store: ObjectStore,
    publisher: Publisher,
    make_tenant: MakeTenant,
) -> None:
    """A 140 MB base64 answer (100 MiB file) goes into the bucket while the worker's peak
    resident memory, over its whole life, stays far below the answer's size."""
    process, ops_port = worker_process
    await ready(ops_port, process)
    tenant_id = await make_tenant()
    # Warm-up: a file of two parts, so imports, pools, the consumer group and the multipart
    # path are settled before the baseline is taken.
    warm_id = sim_media.media_id("application/pdf", 6 * 1024 * 1024, f"evo-warm-{tenant_id}")
    warm = await _evolution_document(app_pool, vault, tenant_id, sim_control, warm_id)
    await publisher.publish(topics.MEDIA, warm.request(), key=str(warm.message_id))
    assert (await wait_state(app_pool, warm))["media_state"] == "stored"
    baseline = high_water_mark(process.pid)

    big_id = sim_media.media_id("application/pdf", EVOLUTION_BIG, f"evo-{tenant_id}")
    big = await _evolution_document(app_pool, vault, tenant_id, sim_control, big_id)
    answer_size = sum(len(p) for p in sim_media.evolution_answer(_spec(big_id)))
    await publisher.publish(topics.MEDIA, big.request(), key=str(big.message_id))
    row = await wait_state(app_pool, big, timeout_s=300)
    peak = high_water_mark(process.pid)

    assert row["media_state"] == "stored", row["media_error"]
    expected = sim_media.expected_sha256(big_id)
    assert (row["media_size"], row["media_sha256"]) == (EVOLUTION_BIG, expected)
    digest, size = hashlib.sha256(), 0
    async for chunk in store.chunks(row["media_key"]):
        digest.update(chunk)
        size += len(chunk)
    assert (size, digest.hexdigest()) == (EVOLUTION_BIG, expected)
    growth = peak - baseline
    print(
        f"\nmedia-worker peak RSS (VmHWM): {baseline / 2**20:.1f} MiB after warm-up, "
        f"{peak / 2**20:.1f} MiB after a {answer_size / 2**20:.1f} MiB Evolution answer "
        f"({EVOLUTION_BIG / 2**20:.0f} MiB file): growth {growth / 2**20:.1f} MiB"
    )
    # Holding the answer, or the decoded file, would add 100-233 MiB; streaming adds parts.
    assert growth < 0.2 * answer_size


def _spec(media_id: str) -> sim_media.MediaSpec:
    spec = sim_media.spec(media_id)
    assert spec is not None
    return spec


@pytest.fixture
def api_process(
    stack_env: dict[str, str],
) -> Iterator[tuple[subprocess.Popen[bytes], int, int]]:
    port, ops_port = free_port(), free_port()
    env = {
        **stack_env,
        "MEDIA_HOST": "127.0.0.1",
        "MEDIA_PORT": str(port),
        "OPS_PORT": str(ops_port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "omnicli", "run", "media-api"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process, port, ops_port
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


async def test_media_api_runs_as_its_own_process_and_stops_on_sigterm(
    api_process: tuple[subprocess.Popen[bytes], int, int],
) -> None:
    process, port, ops_port = api_process
    async with (
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=2) as client,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{ops_port}", timeout=2) as ops,
    ):
        async with asyncio.timeout(60):
            while True:
                assert process.poll() is None, "media-api exited during startup"
                try:
                    if (await ops.get("/readyz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
        assert (await client.get("/v1/media/x")).status_code == 401
        assert (await client.get("/metrics")).status_code == 404
        assert "media_downloads_total" in (await ops.get("/metrics")).text
    process.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(process.wait, 30) == 0
