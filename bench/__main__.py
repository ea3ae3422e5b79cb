"""`make bench`: start the system, measure it and the ceilings in one run, write the results.

    python -m bench [--quick] [--out bench/results]

Everything runs on loopback and stops by itself; the run takes a few minutes (`--quick`:
shorter steps, for checking the harness).
"""

import argparse
import asyncio
import json
import os
import platform
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bench import ceilings, ingest_alone, publish_cost, report, s3_clients, system
from config.shared import S3Settings
from devstack.settings import StackSettings
from devstack.stack import Stack


async def measure(stack: Stack, root: Path, logs: Path, quick: bool) -> dict[str, Any]:
    assert stack.endpoints is not None
    duration = 5 if quick else 15
    clients = 200 if quick else 1000
    results: dict[str, Any] = {"ceilings": {}, "system": {}}
    results["ceilings"]["http"] = await ceilings.http_ceiling(logs, duration, connections=32)
    print("http ceiling", results["ceilings"]["http"], flush=True)
    results["ceilings"]["broker"] = await ceilings.broker_ceiling(
        stack.endpoints.kafka_bootstrap, 20_000 if quick else 50_000
    )
    print("broker ceiling", results["ceilings"]["broker"], flush=True)
    results["ceilings"]["publish_cost"] = await publish_cost.measure(
        stack.endpoints.kafka_bootstrap, 10_000 if quick else 20_000
    )
    print("publish cost", results["ceilings"]["publish_cost"], flush=True)
    e = stack.endpoints
    results["ceilings"]["s3_clients"] = await s3_clients.measure(
        S3Settings(
            endpoint=e.s3_endpoint,
            bucket=e.s3_bucket,
            access_key=SecretStr(e.s3_access_key),
            secret_key=SecretStr(e.s3_secret_key),
        )
    )
    print("s3 clients", results["ceilings"]["s3_clients"], flush=True)
    frames = ceilings.FANOUT_FRAMES
    results["ceilings"]["fanout"] = await ceilings.fanout_ceiling(
        logs, clients, frames, shared=True
    )
    print("fanout ceiling", results["ceilings"]["fanout"], flush=True)
    results["ceilings"]["fanout_broadcast"] = await ceilings.fanout_ceiling(logs, clients, frames)
    print("fanout ceiling, websockets' broadcast", results["ceilings"]["fanout_broadcast"])
    results["ceilings"]["fanout_deflate"] = await ceilings.fanout_ceiling(
        logs, clients, frames, compression="deflate"
    )
    print("fanout ceiling, compressed", results["ceilings"]["fanout_deflate"], flush=True)
    ingest_http = await ingest_alone.measure(root, logs, quick=quick)
    print("ingest-api alone", ingest_http, flush=True)
    results["system"] = await system.measure(stack, root, logs, results["ceilings"], quick=quick)
    results["system"]["ingest_http"] = ingest_http
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="short steps (checks the harness)")
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="omni-bench-"))
    logs = root / "logs"
    stack = Stack(StackSettings(), root / "stack")
    started = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        stack.start()
        stack.prepare()
        results = asyncio.run(measure(stack, root, logs, args.quick))
    finally:
        stack.stop()
    results["started_at"] = started
    results["machine"] = (
        f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}"
    )
    results["quick"] = args.quick
    paths = report.write(results, args.out)
    print(report.markdown(results))
    print(json.dumps({k: str(v) for k, v in paths.items()}))
    print(f"logs in {logs}")


if __name__ == "__main__":
    main()
