"""``lag-exporter``: the consumer groups' lag as Prometheus gauges (``bus.lag``), on its own.

A process of its own, one replica, because the figure must keep moving while the consumers it
describes are stuck, crashed or paused; any of them hosting it would take it down with them.

- ``LAG_GROUPS``: the groups to watch and the topics each consumes, ``group=topic[+topic]``
  comma separated (default
  ``ingest-worker=omni.inbound,dispatcher=omni.outbound,media-worker=omni.media``).
- ``LAG_INTERVAL_S``: seconds between readings, 10 (a scrape sees the last one).
- ``OPS_PORT``: /healthz /readyz /metrics, 9190.
"""

import asyncio
import contextlib
import signal

import structlog
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from bus.lag import LagReader, Watched, parse_groups
from config import KafkaSettings, LogSettings, load
from telemetry import liveness
from telemetry.logging import configure
from telemetry.ops import serve_ops

log = structlog.get_logger(__name__)

_LOOP = "lag-exporter"


class LagSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LAG_", extra="ignore")

    groups: str = "ingest-worker=omni.inbound,dispatcher=omni.outbound,media-worker=omni.media"
    interval_s: float = Field(10.0, gt=0)
    ops_port: int = Field(9190, ge=1, le=65535, validation_alias="OPS_PORT")


async def run(settings: LagSettings, kafka: KafkaSettings, stop: asyncio.Event) -> None:
    watched = parse_groups(settings.groups)
    reader = LagReader(kafka)
    reachable = {"broker": False}

    async def ready() -> dict[str, bool]:
        return dict(reachable)

    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(serve_ops(settings.ops_port, ready, stop))
        await reader.start()
        # A reading that hangs longer than three intervals is a stuck process: restart it.
        liveness.watch(_LOOP, stall_s=max(60.0, 3 * settings.interval_s))
        try:
            while not stop.is_set():
                reachable["broker"] = await _read_all(reader, watched)
                liveness.beat(_LOOP)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=settings.interval_s)
        finally:
            liveness.forget(_LOOP)
            await reader.stop()


async def _read_all(reader: LagReader, watched: list[Watched]) -> bool:
    ok = True
    for group in watched:
        try:
            await reader.export(group)
        except Exception as exc:  # the broker, not this process, is at fault: try next time
            log.warning("lag reading failed", group=group.group, error=repr(exc))
            ok = False
    return ok


def main() -> None:
    settings, kafka = load(LagSettings), load(KafkaSettings)
    configure(load(LogSettings), "lag-exporter")

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run(settings, kafka, stop)

    asyncio.run(serve())
