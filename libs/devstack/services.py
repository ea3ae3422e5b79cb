"""The service processes as a set: which port each listens on, the environment it needs, and
starting them as separate OS processes (as in deployment) for the end-to-end tests and the
benchmark. ``omni dev`` uses the same plan with its supervisor.
"""

import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from devstack.process import ManagedProcess, free_port, port_open


@dataclass(frozen=True)
class ServiceSpec:
    name: str  # the entry point (`omni run NAME`)
    port_env: str  # the variable that sets the port it serves HTTP (or ops endpoints) on
    dev_port: int  # the port `omni dev` prefers, so URLs stay the same between runs
    ready_path: str = "/readyz"
    public: bool = False  # an HTTP API a person or provider calls (vs. ops endpoints only)
    # An HTTP API's ops endpoints are on a port of their own (OPS_PORT), planned as "NAME-ops".
    ops_dev_port: int | None = None


# Order matters: a process starts after what it needs (the simulator before ingest-api posts
# to nothing; consumers before the APIs that feed them).
SPECS: tuple[ServiceSpec, ...] = (
    ServiceSpec("simulator", "SIM_PORT", 8089, "/healthz", public=True),
    ServiceSpec("ingest-worker", "OPS_PORT", 9110),
    ServiceSpec("dispatcher", "OPS_PORT", 9103),
    ServiceSpec("media-worker", "OPS_PORT", 9102),
    ServiceSpec("ingest-api", "INGEST_API_PORT", 8010, public=True, ops_dev_port=9111),
    ServiceSpec("media-api", "MEDIA_PORT", 8020, public=True, ops_dev_port=9120),
    ServiceSpec("gateway", "GATEWAY_PORT", 8080, public=True, ops_dev_port=9180),
    ServiceSpec("lag-exporter", "OPS_PORT", 9190),
)

BY_NAME: dict[str, ServiceSpec] = {s.name: s for s in SPECS}


def plan_ports(names: Iterable[str], *, prefer_dev_ports: bool) -> dict[str, int]:
    """A port per service: its usual dev port when free and wanted, any free port otherwise."""
    ports: dict[str, int] = {}
    for name in names:
        spec = BY_NAME[name]
        ports[name] = _port(spec.dev_port, prefer_dev_ports)
        if spec.ops_dev_port is not None:
            ports[ops_key(name)] = _port(spec.ops_dev_port, prefer_dev_ports)
    return ports


def ops_key(name: str) -> str:
    return f"{name}-ops"


def _port(dev_port: int, prefer_dev_ports: bool) -> int:
    wanted = dev_port if prefer_dev_ports and not port_open(dev_port) else None
    return wanted or free_port()


def metrics_urls(ports: Mapping[str, int]) -> dict[str, str]:
    """Where each planned service serves Prometheus metrics: its ops port's /metrics (the
    simulator, a stand-in for the customers' side, has none)."""
    found = {}
    for name, port in ports.items():
        spec = BY_NAME.get(name)
        if spec is None:
            continue
        ops_port = ports.get(ops_key(name), port if spec.port_env == "OPS_PORT" else None)
        if ops_port is not None:
            found[name] = f"http://127.0.0.1:{ops_port}/metrics"
    return found


def urls(ports: Mapping[str, int]) -> dict[str, str]:
    return {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}


def service_env(name: str, ports: Mapping[str, int], base: Mapping[str, str]) -> dict[str, str]:
    """The environment of one service process: the shared one, its own port, loopback hosts."""
    env = dict(base)
    env[BY_NAME[name].port_env] = str(ports[name])
    if ops_key(name) in ports:
        env["OPS_PORT"] = str(ports[ops_key(name)])
    env.update(
        {
            "INGEST_API_HOST": "127.0.0.1",
            "MEDIA_HOST": "127.0.0.1",
            "GATEWAY_HOST": "127.0.0.1",
            "SIM_HOST": "127.0.0.1",
        }
    )
    if "simulator" in ports:
        # Provider calls (sends, health, media) may reach the simulator although it listens on
        # loopback and speaks plain http; no other local port is reachable through them.
        env["PROVIDER_EGRESS_ALLOW"] = f"127.0.0.1:{ports['simulator']}"
        env["PROVIDER_ALLOW_HTTP"] = "true"
    if "ingest-api" in ports:
        env["GATEWAY_INGEST_PUBLIC_URL"] = f"http://127.0.0.1:{ports['ingest-api']}"
    if "gateway" in ports:
        # The web inbox is served by the gateway: its origin may open the websocket and, as
        # media-api listens on another port here, fetch and upload attachments (CORS).
        port = ports["gateway"]
        for key in ("GATEWAY_ALLOWED_ORIGINS", "MEDIA_ALLOWED_ORIGINS"):
            given = [o for o in base.get(key, "").split(",") if o.strip()]
            env[key] = ",".join([*given, f"http://127.0.0.1:{port}", f"http://localhost:{port}"])
    return env


def _ready(port: int, path: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


class ServiceSet:
    """Every named service as its own OS process, logging to files; stopped together."""

    def __init__(
        self, names: Iterable[str], base_env: Mapping[str, str], logs: Path, python: str
    ) -> None:
        self.names = [s.name for s in SPECS if s.name in set(names)]
        self.ports = plan_ports(self.names, prefer_dev_ports=False)
        self.urls = urls(self.ports)
        self.processes: dict[str, ManagedProcess] = {
            name: ManagedProcess(
                name,
                [python, "-m", "omnicli", "run", name],
                logs / f"{name}.log",
                env=service_env(name, self.ports, base_env),
            )
            for name in self.names
        }

    def start(self, timeout_s: float = 60.0) -> None:
        try:
            for name in self.names:
                self.start_one(name, timeout_s)
        except BaseException:
            self.stop()
            raise

    def start_one(self, name: str, timeout_s: float = 60.0) -> None:
        proc = self.processes[name]
        proc.start()
        spec = BY_NAME[name]
        port = self.ports.get(ops_key(name), self.ports[name])
        proc.wait_until(lambda: _ready(port, spec.ready_path), timeout_s)

    def kill(self, name: str) -> None:
        self.processes[name].kill()

    def stop(self) -> None:
        for name in reversed(self.names):
            self.processes[name].stop()
