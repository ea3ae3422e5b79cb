"""Entry points of the ingest service: ``ingest-api`` and ``ingest-worker`` (see omnicli)."""

import asyncio

from config import DatabaseSettings, KafkaSettings, LogSettings, TraceSettings, load
from ingest.settings import IngestSettings
from telemetry import tracing
from telemetry.logging import configure


def worker() -> None:
    from ingest import worker as consumer

    settings = load(IngestSettings)
    db, kafka = load(DatabaseSettings), load(KafkaSettings)
    configure(load(LogSettings), "ingest-worker")
    tracing.setup(load(TraceSettings), "ingest-worker")

    async def main() -> None:
        stop = asyncio.Event()
        consumer.stop_on_signals(stop)
        await consumer.run(settings, db, kafka, stop)

    asyncio.run(main())


def api() -> None:
    from ingest.api import serve

    configure(load(LogSettings), "ingest-api")
    tracing.setup(load(TraceSettings), "ingest-api")
    serve(load(IngestSettings))


if __name__ == "__main__":
    worker()
