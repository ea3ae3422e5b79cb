"""The ``gateway`` entry point as deployments run it: serves, then stops cleanly on SIGTERM."""

import signal
import socket
import subprocess
import sys
import time

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_gateway_process_serves_and_stops_cleanly_on_sigterm(stack_env: dict[str, str]) -> None:
    port = _free_port()
    env = {**stack_env, "GATEWAY_HOST": "127.0.0.1", "GATEWAY_PORT": str(port)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "omnicli", "run", "gateway"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        ready = None
        for _ in range(300):  # bounded wait for the port to answer
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None:
                    break
                time.sleep(0.1)
        assert ready is not None and ready.status_code == 200, ready
        assert ready.json()["checks"] == {"postgres": True, "realtime_consumer": True}
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
