"""Settings of the operator commands that act as the database owner."""

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class MigrateSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    database_url: SecretStr  # the owner: migrations and credential rotation only
    app_db_password: SecretStr | None = None
