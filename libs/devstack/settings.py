"""What the launcher reads: addresses of parts that already run, and where to keep its state."""

from pathlib import Path
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class StackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    # Given addresses win; a part without one is started embedded (or in Docker, see below).
    database_url: str | None = None  # owner/admin URL of an existing Postgres
    app_database_url: str | None = None  # app-role URL; derived from DATABASE_URL if absent
    app_db_password: SecretStr = SecretStr("omni-app-dev")
    kafka_bootstrap: str | None = None
    kafka_idempotent: bool | None = None  # default: on for given/Docker Kafka, off for Tansu
    s3_endpoint: str | None = None
    s3_bucket: str = "omni-media"
    s3_access_key: SecretStr = SecretStr("omni")
    s3_secret_key: SecretStr = SecretStr("omni-secret")
    # "docker": start Apache Kafka, Postgres and MinIO with testcontainers (needs a Docker engine).
    omni_infra: Literal["embedded", "docker"] = "embedded"
    omni_state_dir: Path = Path(".omni")
    omni_database_name: str = "omni"
