"""Entry point ``gateway``: REST + websocket on GATEWAY_PORT until SIGTERM (uvicorn handles the
signal: it stops accepting, closes websockets, then runs the lifespan exit)."""

import uvicorn

from realtime.app import create_app, server_config
from realtime.settings import load_config
from telemetry.logging import configure


def main() -> None:
    config = load_config()
    configure(config.log, "gateway")
    uvicorn.Server(server_config(create_app(config), config.gateway)).run()


if __name__ == "__main__":
    main()
