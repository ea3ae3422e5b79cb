"""``omni run simulator`` / ``python -m simulator``: the provider simulator in the foreground.

Reads SIM_HOST (default 127.0.0.1), SIM_PORT (default 8089) and LOG_*; serves /healthz,
/readyz and /metrics on the same port; uvicorn stops gracefully on SIGTERM."""

from pydantic_settings import BaseSettings, SettingsConfigDict

from config import LogSettings, load
from simulator.server import serve
from telemetry.logging import configure


class SimSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SIM_")

    host: str = "127.0.0.1"
    port: int = 8089


def main() -> None:
    settings = load(SimSettings)
    configure(load(LogSettings), "simulator")
    serve(settings.host, settings.port)


if __name__ == "__main__":
    main()
