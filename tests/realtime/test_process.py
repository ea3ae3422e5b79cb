"""The ``gateway`` entry point as deployments run it: ops endpoints on OPS_PORT only, request
bodies capped while they are received (its memory stays flat under a 20 MB body), and a clean
stop on SIGTERM."""

import asyncio
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from devstack.process import free_port

BIG = 20 * 1024 * 1024
CHUNK = 64 * 1024
# A JSON route: FastAPI would read and parse its body before checking the token.
JSON_ROUTE = "/v1/conversations"
AUTH_TIMEOUT_S = 1.0


class Running:
    def __init__(self, proc: subprocess.Popen[str], port: int, ops_port: int) -> None:
        self.proc, self.port, self.ops_port = proc, port, ops_port


@pytest.fixture(scope="module")
def gateway_process(stack_env: dict[str, str]) -> Iterator[Running]:
    port, ops_port = free_port(), free_port()
    env = {
        **stack_env,
        "GATEWAY_HOST": "127.0.0.1",
        "GATEWAY_PORT": str(port),
        "OPS_PORT": str(ops_port),
        "GATEWAY_AUTH_TIMEOUT_S": str(AUTH_TIMEOUT_S),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "omnicli", "run", "gateway"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        ready = None
        for _ in range(300):  # bounded wait for the ops port to answer ready
            try:
                ready = httpx.get(f"http://127.0.0.1:{ops_port}/readyz", timeout=1)
                if ready.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        assert ready is not None and ready.status_code == 200, ready
        assert ready.json()["checks"] == {"postgres": True, "realtime_consumer": True}
        yield Running(proc, port, ops_port)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_ops_endpoints_answer_on_the_ops_port_only(gateway_process: Running) -> None:
    ports = (gateway_process.port, gateway_process.ops_port)
    public, ops = (f"http://127.0.0.1:{p}" for p in ports)
    for path in ("/healthz", "/readyz", "/metrics"):
        assert httpx.get(f"{ops}{path}", timeout=5).status_code == 200, path
        assert httpx.get(f"{public}{path}", timeout=5).status_code == 404, path


def _post_big(port: int, *, chunked: bool) -> int:
    """Send (up to) 20 MB to a JSON route while reading the answer; its status code. The
    gateway answers before the body is through and closes; writing stops there (plain
    blocking sockets: the answer stays readable after the write fails on the reset)."""
    framing = b"Transfer-Encoding: chunked" if chunked else f"Content-Length: {BIG}".encode()
    head = (
        b"POST " + JSON_ROUTE.encode() + b" HTTP/1.1\r\nHost: gateway\r\n"
        b"Authorization: Bearer not-a-token\r\nContent-Type: application/json\r\n"
        + framing
        + b"\r\n\r\n"
    )
    piece = b"[" + b"1," * (CHUNK // 2 - 1) + b"1]"
    if chunked:
        piece = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    answered = threading.Event()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:

        def write_body() -> None:
            sent = 0
            try:
                while sent < BIG and not answered.is_set():
                    sock.sendall(piece)
                    sent += len(piece)
            except OSError:
                pass  # the gateway answered and closed: what was left is not wanted

        sock.sendall(head)
        writer = threading.Thread(target=write_body, daemon=True)
        writer.start()
        status_line = sock.recv(64)
        answered.set()
        writer.join(timeout=60)
    return int(status_line.split()[1])


def _peak_rss(pid: int) -> int:
    """The process's high-water mark of resident memory (Linux), else its current RSS."""
    status = Path(f"/proc/{pid}/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return int(psutil.Process(pid).memory_info().rss)


def test_a_20mb_body_is_refused_and_the_gateway_rss_stays_flat(gateway_process: Running) -> None:
    pid, port = gateway_process.proc.pid, gateway_process.port
    url = f"http://127.0.0.1:{port}{JSON_ROUTE}"
    assert httpx.post(url, json={"to": "x"}, timeout=10).status_code == 401  # warmed up
    before = _peak_rss(pid)
    for chunked in (False, True, False, True):
        assert _post_big(port, chunked=chunked) == 413, chunked
    grown = _peak_rss(pid) - before
    print(f"\ngateway peak RSS {before / 2**20:.1f} MiB, grew {grown / 2**20:.2f} MiB (4 x 20 MB)")
    # Read whole, 20 MB would be held at least once (and parsed, ~20x that).
    assert grown < 8 * 1024 * 1024, f"peak RSS grew by {grown} bytes"
    assert httpx.post(url, json={"to": "x"}, timeout=10).status_code == 401  # small: goes on


async def test_100_silent_connections_to_the_process_are_closed_within_the_auth_timeout(
    gateway_process: Running,
) -> None:
    """As deployed (uvloop, whose timers can fire a little early): every connection that never
    sends its auth frame is closed with 4001 within the auth timeout plus one second."""
    url = f"ws://127.0.0.1:{gateway_process.port}/v1/ws"

    async def silent() -> tuple[int | None, float]:
        async with websockets.connect(url, open_timeout=30) as ws:
            opened = time.monotonic()
            with pytest.raises(ConnectionClosed) as closed:
                async with asyncio.timeout(30):
                    await ws.recv()
        rcvd = closed.value.rcvd
        return (rcvd.code if rcvd else None), time.monotonic() - opened

    results = await asyncio.gather(*(silent() for _ in range(100)))
    slowest = max(took for _, took in results)
    print(f"\n100 silent connections (gateway process) closed after up to {slowest:.2f} s")
    assert {code for code, _ in results} == {4001}
    assert slowest <= AUTH_TIMEOUT_S + 1.0


def test_gateway_process_stops_cleanly_on_sigterm(gateway_process: Running) -> None:
    proc = gateway_process.proc
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
