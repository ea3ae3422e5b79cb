"""Entry point ``gateway``: REST + websocket on GATEWAY_PORT, /healthz /readyz /metrics on
OPS_PORT, until SIGTERM or SIGINT.

On the signal uvicorn stops accepting, closes open websockets (1012: clients resume elsewhere),
waits for in-flight requests, then the lifespan stops the consumer, producer and pool; the
process exits 0.
"""

import asyncio

import structlog

from config import TraceSettings, load
from realtime.app import create_app, server_config
from realtime.settings import Config, load_config
from telemetry import tracing
from telemetry.logging import configure
from telemetry.ops import serve_with_ops


async def serve(config: Config) -> None:
    # serve_with_ops keeps signals to itself: uvicorn's own handler would re-raise SIGTERM
    # after a graceful shutdown and the process would look killed.
    app = create_app(config)
    await serve_with_ops(server_config(app, config.gateway), app.state.ops, config.gateway.ops_port)


def main() -> None:
    config = load_config()
    configure(config.log, "gateway")
    tracing.setup(load(TraceSettings), "gateway")
    log = structlog.get_logger("realtime")
    log.info("gateway starting", port=config.gateway.port)
    asyncio.run(serve(config))
    log.info("gateway stopped")


if __name__ == "__main__":
    main()
