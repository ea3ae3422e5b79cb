"""``omni dev`` as a user runs it: it comes up, says where things are, and Ctrl-C leaves nothing."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil


def _children_using(path: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if str(path) in cmdline:
            found.append(proc)
    return found


def test_omni_dev_starts_the_infrastructure_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "APP_DATABASE_URL", "KAFKA_BOOTSTRAP", "S3_ENDPOINT")
        and not k.startswith("OTEL_")
    }
    env["OMNI_STATE_DIR"] = str(tmp_path / "state")
    proc = subprocess.Popen(
        [sys.executable, "-m", "omnicli", "dev", "--infra-only"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("ready"):
            break
    output = "".join(lines)
    assert "ready" in output, output
    for part in ("postgres", "kafka", "s3", "token"):
        assert part in output
    dev_env = (tmp_path / "state" / "dev.env").read_text()
    assert "KAFKA_BOOTSTRAP=" in dev_env and "OMNI_AGENT_TOKEN=" in dev_env
    # where traces go: a receiver of its own, its file named for `omni trace`
    traces = str(tmp_path / "state" / "traces.jsonl")
    assert f"traces      {traces} (OTLP/HTTP at http://127.0.0.1:" in output
    assert f"OMNI_TRACES_FILE='{traces}'" in dev_env
    assert _children_using(tmp_path), "the embedded parts should be running"

    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, rest
    assert "stopped" in rest
    assert _children_using(tmp_path) == []
