"""``omni run simulator`` / ``python -m simulator``: the provider simulator in the foreground.

Reads SIM_HOST (default 127.0.0.1) and SIM_PORT (default 8089)."""

from pydantic_settings import BaseSettings, SettingsConfigDict

from config import load
from simulator.server import serve


class SimSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SIM_")

    host: str = "127.0.0.1"
    port: int = 8089


def main() -> None:
    settings = load(SimSettings)
    serve(settings.host, settings.port)


if __name__ == "__main__":
    main()
