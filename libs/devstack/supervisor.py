"""Runs the service processes of ``omni dev``: one terminal, each line prefixed by its service,
a crashed service reported and restarted with backoff, everything stopped on Ctrl-C."""

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TextIO


@dataclass
class Service:
    name: str
    argv: Sequence[str]
    env: dict[str, str] | None = None
    restarts: int = 0
    proc: subprocess.Popen[bytes] | None = None
    next_start: float = 0.0
    pumps: list[threading.Thread] = field(default_factory=list)


class Supervisor:
    def __init__(self, env: dict[str, str], out: TextIO = sys.stdout) -> None:
        self.env = env
        self.out = out
        self.services: list[Service] = []
        self._lock = threading.Lock()
        self._width = 12

    def add(self, name: str, argv: Sequence[str], env: dict[str, str] | None = None) -> None:
        self.services.append(Service(name, argv, env))
        self._width = max(self._width, len(name))

    def say(self, name: str, line: str) -> None:
        with self._lock:
            self.out.write(f"{name:<{self._width}} | {line}\n")
            self.out.flush()

    def _pump(self, svc: Service, stream: TextIO | None) -> None:
        if stream is None:
            return
        for line in stream:
            self.say(svc.name, line.rstrip("\n"))

    def _start(self, svc: Service) -> None:
        svc.proc = subprocess.Popen(
            list(svc.argv),
            env=svc.env or self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        assert svc.proc.stdout is not None
        reader = threading.Thread(
            target=self._pump,
            args=(svc, (line.decode(errors="replace") for line in svc.proc.stdout)),
            daemon=True,
        )
        reader.start()
        svc.pumps.append(reader)

    def start_all(self) -> None:
        for svc in self.services:
            self._start(svc)

    def watch(self, stop: threading.Event, poll_s: float = 0.5) -> None:
        """Restart services that exit, with exponential backoff, until ``stop`` is set."""
        while not stop.wait(poll_s):
            now = time.monotonic()
            for svc in self.services:
                if svc.proc is None or svc.proc.poll() is None:
                    continue
                if svc.next_start == 0.0:
                    delay = min(30.0, 0.5 * 2 ** min(svc.restarts, 6))
                    svc.next_start = now + delay
                    self.say(
                        svc.name,
                        f"!! exited with {svc.proc.returncode}; restarting in {delay:.1f}s",
                    )
                elif now >= svc.next_start:
                    svc.restarts += 1
                    svc.next_start = 0.0
                    self._start(svc)

    def stop_all(self, timeout_s: float = 10.0) -> None:
        for svc in self.services:
            if svc.proc is not None and svc.proc.poll() is None:
                os.killpg(svc.proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for svc in self.services:
            if svc.proc is None:
                continue
            try:
                svc.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(svc.proc.pid, signal.SIGKILL)
                svc.proc.wait(5)
