"""media-worker processes started by tests: spawned with the stack's environment, awaited until
ready, their memory watched (sampled RSS, and the kernel's own high-water mark)."""

import asyncio
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import asyncpg
import httpx
import psutil  # type: ignore[import-untyped]

from devstack.process import free_port
from tests.media import rows


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


def high_water_mark(pid: int) -> int:
    """The most resident memory the process ever had (Linux ``VmHWM``), in bytes: unlike
    sampling, it cannot miss a short peak."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmHWM for process {pid}")


_LOGS: dict[int, Path] = {}


def spawn_worker(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    """A media-worker process (``omni run media-worker``) and its ops port. Its log goes to a
    file, never a pipe: a pipe nobody reads fills after 64 KB and freezes the worker mid-write."""
    ops_port = free_port()
    with tempfile.NamedTemporaryFile(
        prefix="media-worker-", suffix=".log", delete=False
    ) as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "omnicli", "run", "media-worker"],
            env={**env, "OPS_PORT": str(ops_port)},
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    _LOGS[process.pid] = Path(log_file.name)
    return process, ops_port


def log_tail(process: subprocess.Popen[bytes], chars: int = 4000) -> str:
    """The end of a spawned worker's log, for a failing test's message."""
    path = _LOGS.get(process.pid)
    if path is None or not path.exists():
        return ""
    return path.read_text(errors="replace")[-chars:]


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)
    path = _LOGS.pop(process.pid, None)
    if path is not None:
        path.unlink(missing_ok=True)


async def ready(ops_port: int, process: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(timeout=2) as client:
        async with asyncio.timeout(60):
            while True:
                if process.poll() is not None:
                    tail = log_tail(process)
                    raise AssertionError(f"media-worker exited during startup:\n{tail}")
                try:
                    if (await client.get(f"http://127.0.0.1:{ops_port}/readyz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)


async def wait_state(
    pool: asyncpg.Pool, inbound: rows.Inbound, timeout_s: float = 90
) -> asyncpg.Record:
    async with asyncio.timeout(timeout_s):
        while True:
            row = await rows.message_row(pool, inbound.tenant_id, inbound.message_id)
            if row["media_state"] != "pending":
                return row
            await asyncio.sleep(0.1)
