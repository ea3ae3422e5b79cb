"""What ``/healthz`` answers: is every loop this process exists for still turning?

A worker whose consume loop ended, or a gateway whose realtime reader died, can keep serving
its ops port while doing nothing: alive to the orchestrator, deaf to its work. Each such loop
registers here (its task, and optionally how long it may go without a beat), and ``/healthz``
answers 503 naming the loops that stopped or stalled, so the orchestrator restarts the process.
Process-wide, like the metrics registry.
"""

import asyncio
import time
from dataclasses import dataclass


@dataclass
class _Loop:
    task: asyncio.Task[object] | None
    stall_s: float | None
    last_beat: float


_LOOPS: dict[str, _Loop] = {}


def watch(
    name: str, task: asyncio.Task[object] | None = None, *, stall_s: float | None = None
) -> None:
    """Health fails once ``task`` is done, or once ``beat(name)`` was not called for
    ``stall_s`` seconds (a loop waiting on something that never answers)."""
    _LOOPS[name] = _Loop(task, stall_s, time.monotonic())


def beat(name: str) -> None:
    loop = _LOOPS.get(name)
    if loop is not None:
        loop.last_beat = time.monotonic()


def forget(name: str) -> None:
    """A loop that ended on purpose (the process is stopping)."""
    _LOOPS.pop(name, None)


def problems(now: float | None = None) -> list[str]:
    """Pure over the registry: the loops that stopped or stalled, each with why."""
    now = time.monotonic() if now is None else now
    found = []
    for name, loop in sorted(_LOOPS.items()):
        if loop.task is not None and loop.task.done():
            found.append(f"{name}: stopped")
        elif loop.stall_s is not None and now - loop.last_beat > loop.stall_s:
            found.append(f"{name}: no progress for {int(now - loop.last_beat)} s")
    return found
