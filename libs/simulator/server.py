"""Start the simulator: in a background thread on a free port (tests, benchmarks) or in the
foreground (``omni sim``)."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn

from simulator.app import create_app
from simulator.state import SimState

# How long an idle keep-alive connection stays open. Real provider front ends keep idle
# connections far longer than a client's pool does (httpx expires them after 5 s); with
# uvicorn's default (also 5 s) the simulator would close connections just as clients reuse
# them, and a send written onto a connection closed under it ends "may have been sent".
KEEP_ALIVE_S = 75


@dataclass(frozen=True)
class RunningSimulator:
    base_url: str  # e.g. http://127.0.0.1:41234; pass as base_url to providers.registry.client
    state: SimState  # the live state, for in-process inspection


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running(
    host: str = "127.0.0.1", port: int = 0, *, startup_timeout_s: float = 10.0
) -> Iterator[RunningSimulator]:
    """Run the simulator in a daemon thread until the block exits."""
    port = port or free_port(host)
    base_url = f"http://{host}:{port}"
    state = SimState()
    config = uvicorn.Config(
        create_app(base_url, state),
        host=host,
        port=port,
        log_level="warning",
        lifespan="on",
        timeout_keep_alive=KEEP_ALIVE_S,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="provider-simulator", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"simulator did not start on {base_url}")
        time.sleep(0.02)
    try:
        yield RunningSimulator(base_url, state)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def serve(host: str, port: int) -> None:
    """Foreground server; uvicorn handles SIGINT/SIGTERM gracefully."""
    base_url = f"http://{host}:{port}"
    uvicorn.run(
        create_app(base_url),
        host=host,
        port=port,
        log_level="info",
        timeout_keep_alive=KEEP_ALIVE_S,
    )
