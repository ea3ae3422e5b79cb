"""Processes the benchmark starts: servers (logged to files) and the websocket client swarm."""

import asyncio
import json
import sys
import urllib.request
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from devstack.process import ManagedProcess, free_port, port_open


def start_server(
    name: str,
    argv: Sequence[str],
    logs: Path,
    env: dict[str, str] | None = None,
    port: int | None = None,
    health_path: str | None = None,
) -> ManagedProcess:
    proc = ManagedProcess(name, argv, logs / f"{name}.log", env=env)
    proc.start()
    if port is not None:

        def ready() -> bool:
            if not port_open(port):
                return False
            if health_path is None:
                return True
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}{health_path}", timeout=1
                ) as response:
                    return bool(response.status == 200)
            except OSError:
                return False

        proc.wait_until(ready, 60)
    return proc


def uvicorn_argv(app: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]


async def swarm(
    url: str,
    clients: int,
    frames: int,
    mode: str,
    handshake: Sequence[str],
    trigger: Callable[[], Awaitable[None]],
    timeout_s: float = 120,
) -> dict[str, object]:
    """Connect ``clients`` websocket clients (another process), run ``trigger`` once they are all
    subscribed, and return their delivery statistics."""
    argv = [
        sys.executable,
        "-m",
        "bench.ws_clients",
        "--url",
        url,
        "--clients",
        str(clients),
        "--expect",
        str(frames),
        "--mode",
        mode,
        "--timeout",
        str(timeout_s),
    ]
    for frame in handshake:
        argv += ["--handshake", frame]
    proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 150)
    if not line:
        raise RuntimeError("websocket clients exited before connecting")
    started = __import__("time").time()
    await trigger()
    out, _ = await asyncio.wait_for(proc.communicate(), timeout_s + 30)
    result: dict[str, object] = json.loads(out.decode().strip().splitlines()[-1])
    last = float(result["last_receive"] or started)  # type: ignore[arg-type]
    span = max(1e-6, last - started)
    result["deliveries_per_s"] = round(int(result["deliveries"]) / span)  # type: ignore[call-overload]
    return result


__all__ = ["free_port", "start_server", "swarm", "uvicorn_argv"]
