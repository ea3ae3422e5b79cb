"""Entry point ``gateway``: REST + websocket on GATEWAY_PORT until SIGTERM or SIGINT.

On the signal uvicorn stops accepting, closes open websockets (1012: clients resume elsewhere),
waits for in-flight requests, then the lifespan stops the consumer, producer and pool; the
process exits 0.
"""

import asyncio
import signal

import structlog

from realtime.app import create_app, server_config
from realtime.settings import Config, load_config
from telemetry.logging import configure
from telemetry.ops import EmbeddedServer


async def serve(config: Config) -> None:
    # EmbeddedServer leaves signals to us: uvicorn's own handler would re-raise SIGTERM after
    # a graceful shutdown and the process would look killed.
    server = EmbeddedServer(server_config(create_app(config), config.gateway))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
    await server.serve()


def main() -> None:
    config = load_config()
    configure(config.log, "gateway")
    log = structlog.get_logger("realtime")
    log.info("gateway starting", port=config.gateway.port)
    asyncio.run(serve(config))
    log.info("gateway stopped")


if __name__ == "__main__":
    main()
