"""moto's S3 server on loopback: the S3 protocol for development and tests (it does not check
request signatures; MinIO in deployment does)."""

import sys
import urllib.request
from pathlib import Path

from devstack.process import ManagedProcess, free_port


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - loopback
            return bool(response.status == 200)
    except OSError:
        return False


class MotoS3:
    def __init__(self, root: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.process = ManagedProcess(
            "s3",
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            root / "moto.log",
        )

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 30.0) -> None:
        self.process.start()
        self.process.wait_until(lambda: _answers(self.endpoint + "/moto-api/"), timeout_s)

    def stop(self) -> None:
        self.process.stop(timeout_s=5)
