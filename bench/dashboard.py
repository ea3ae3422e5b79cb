"""``python -m bench.dashboard``: the README's dashboard screenshot, from a real run.

Starts the system as ``make bench`` does (embedded Kafka, Postgres and S3, every service as its
own process), a real Prometheus scraping every service's /metrics each second, and an agent's
inbox on the websocket; then drives signed Meta webhooks at ``--rate`` for ``--duration``
seconds with agents' replies alongside, freezing ingest-worker (SIGSTOP) for ``--pause``
seconds in the middle so the lag and latency panels show what an incident looks like. Each
panel of deploy/monitoring/dashboard.json is then drawn from Prometheus's answers to that
panel's own queries (``bench.dashboard_plot``).

Needs Debian's Prometheus (``apt-get install prometheus``) and the bench dependencies
(``uv sync --group bench``: matplotlib). Loopback only; stops by itself in a few minutes.
"""

import argparse
import asyncio
import math
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from bench import outbound, system
from bench.dashboard_plot import Panel, Series, draw, legend, panels
from bench.running import Running, running_system
from contracts import Provider
from devstack.process import ManagedProcess, free_port
from devstack.services import metrics_urls
from devstack.settings import StackSettings
from devstack.stack import Stack
from simulator.control import SimControl

RATE_WINDOW = "15s"  # what the dashboard's $__rate_interval stands for at a 1 s scrape
STEP_S = 2


def prometheus_config(targets: dict[str, str]) -> str:
    """A scrape job per service (its name as ``job``), every second."""
    jobs = []
    for name, url in targets.items():
        address = urlsplit(url).netloc
        jobs.append(f"  - job_name: {name}\n    static_configs:\n      - targets: ['{address}']\n")
    return "global:\n  scrape_interval: 1s\nscrape_configs:\n" + "".join(jobs)


async def _panel(
    api: httpx.AsyncClient, panel: Panel, start: float, end: float
) -> tuple[Panel, list[Series]]:
    series: list[Series] = []
    for target in panel.targets:
        expr = target.expr.replace("$__rate_interval", RATE_WINDOW)
        answer = await api.get(
            "/api/v1/query_range",
            params={"query": expr, "start": start, "end": end, "step": STEP_S},
        )
        answer.raise_for_status()
        for result in answer.json()["data"]["result"]:
            points = tuple(
                (float(at) - start, float(value))
                for at, value in result["values"]
                if not math.isnan(float(value))
            )
            if points:
                series.append(Series(legend(target.legend, result["metric"]), points))
    return panel, series


async def _pause_worker(running: Running, after_s: float, pause_s: float) -> None:
    await asyncio.sleep(after_s)
    pid = running.services.processes["ingest-worker"].pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        await asyncio.sleep(pause_s)
    finally:
        os.kill(pid, signal.SIGCONT)


async def _replies(running: Running, count: int) -> None:
    urls = running.services.urls
    async with (
        SimControl(urls["simulator"]) as sim,
        outbound.agents_client(urls["gateway"], running.token) as api,
    ):
        conversations = await outbound.open_windows(
            api, sim, Provider.META, running.account, outbound.CUSTOMERS
        )
        await outbound.throughput(
            api, sim, Provider.META, running.account, conversations, count, agents=16
        )


async def run(out: Path, *, rate: int, duration_s: float, pause_s: float, replies: int) -> None:
    prometheus_bin = shutil.which("prometheus")
    if prometheus_bin is None:
        raise SystemExit("prometheus not found: apt-get install prometheus")
    # The lag-exporter reads every 2 s instead of 10: a minute's run should show a slope.
    os.environ.setdefault("LAG_INTERVAL_S", "2")
    root = Path(tempfile.mkdtemp(prefix="omni-dashboard-"))
    logs = root / "logs"
    stack = Stack(StackSettings(), root / "stack")
    await asyncio.to_thread(stack.start)
    try:
        await asyncio.to_thread(stack.prepare)
        async with running_system(stack, logs) as running:
            config = root / "prometheus.yml"
            config.write_text(prometheus_config(metrics_urls(running.services.ports)))
            port = free_port()
            prometheus = ManagedProcess(
                "prometheus",
                [
                    prometheus_bin,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={root / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                ],
                logs / "prometheus.log",
            )
            prometheus.start()
            try:
                async with httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{port}", timeout=30
                ) as api:
                    await _until_ready(api)
                    inbox = system.Inbox(running.services.urls["gateway"], running.token)
                    await inbox.start()
                    start = time.time()
                    try:
                        await asyncio.gather(
                            system._inbound_step(running, inbox, rate, duration_s),
                            _pause_worker(running, duration_s * 0.4, pause_s),
                            _replies(running, replies),
                        )
                    finally:
                        await inbox.stop()
                    await asyncio.sleep(10)  # the tail: lag back to 0, rates falling
                    end = time.time()
                    grid = [await _panel(api, p, start, end) for p in panels()]
            finally:
                prometheus.stop()
    finally:
        await asyncio.to_thread(stack.stop)
    title = (
        f"Omnichannel Realtime — {rate} webhooks/s for {duration_s:.0f} s, agents' replies, "
        f"ingest-worker frozen {pause_s:.0f} s at {duration_s * 0.4:.0f} s"
    )
    draw(grid, out, title=title)
    print(f"wrote {out} (logs in {logs})", flush=True)


async def _until_ready(api: httpx.AsyncClient, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if (await api.get("/-/ready")).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.3)
    raise RuntimeError("prometheus did not become ready")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots/dashboard.png"))
    parser.add_argument("--rate", type=int, default=100, help="webhooks per second")
    parser.add_argument("--duration", type=float, default=60, help="seconds of load")
    parser.add_argument("--pause", type=float, default=12, help="seconds ingest-worker is frozen")
    parser.add_argument("--replies", type=int, default=150, help="agents' replies sent")
    args = parser.parse_args(argv)
    asyncio.run(
        run(
            args.out,
            rate=args.rate,
            duration_s=args.duration,
            pause_s=args.pause,
            replies=args.replies,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
