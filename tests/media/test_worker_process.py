"""media-worker and media-api as their own processes (``omni run ...``): the worker consumes the
media topic, stores a 50 MB document while its memory grows by a small fraction of the file,
publishes the realtime update; both stop cleanly on SIGTERM."""

import asyncio
import signal
import subprocess
import sys
import threading
import time
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
from simulator import media as sim_media
from simulator.control import SimControl
from simulator.server import RunningSimulator
from tests.media import rows
from tests.media.conftest import credentials_for, sim_exemption
from tests.media.realtime import updates_for

MakeTenant = Callable[..., Any]

BIG = 50 * 1024 * 1024


class PeakRss:
    """Samples a process's resident memory from a thread until stopped."""

    def __init__(self, pid: int, every_s: float = 0.01) -> None:
        self._process = psutil.Process(pid)
        self._every = every_s
        self._stop = threading.Event()
        self.peak = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self._process.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(self._every)

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture
def worker_process(
    stack_env: dict[str, str], media_sim: RunningSimulator
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    ops_port = free_port()
    env = {
        **stack_env,
        "OPS_PORT": str(ops_port),
        "MEDIA_ALLOWED_PRIVATE_HOSTS": sim_exemption(media_sim),
        "MEDIA_CONCURRENCY": "2",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "omnicli", "run", "media-worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield process, ops_port
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()


async def _ready(ops_port: int, process: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(timeout=2) as client:
        async with asyncio.timeout(60):
            while True:
                if process.poll() is not None:
                    err = process.stderr.read().decode() if process.stderr else ""
                    raise AssertionError(f"media-worker exited during startup:\n{err[-3000:]}")
                try:
                    if (await client.get(f"http://127.0.0.1:{ops_port}/readyz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)


async def _wait_state(
    pool: asyncpg.Pool, inbound: rows.Inbound, timeout_s: float = 90
) -> asyncpg.Record:
    async with asyncio.timeout(timeout_s):
        while True:
            row = await rows.message_row(pool, inbound.tenant_id, inbound.message_id)
            if row["media_state"] != "pending":
                return row
            await asyncio.sleep(0.1)


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
    await _ready(ops_port, process)
    tenant_id = await make_tenant()

    # Warm-up: a small file, so imports, pools and the consumer group are settled first.
    warm_id = sim_media.media_id("application/pdf", 200_000, f"warm-{tenant_id}")
    small = await _document(app_pool, vault, tenant_id, sim_control, warm_id)
    await publisher.publish(topics.MEDIA, small.request(), key=str(small.message_id))
    assert (await _wait_state(app_pool, small))["media_state"] == "stored"
    baseline = psutil.Process(process.pid).memory_info().rss

    big_id = sim_media.media_id("application/pdf", BIG, f"big-{tenant_id}")
    big = await _document(app_pool, vault, tenant_id, sim_control, big_id)
    with PeakRss(process.pid) as sampler:
        await publisher.publish(topics.MEDIA, big.request(), key=str(big.message_id))
        row = await _wait_state(app_pool, big)

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
