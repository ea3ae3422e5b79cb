"""Settings for the infrastructure several services use; each reads plain, documented variables.

| variable | meaning |
|---|---|
| APP_DATABASE_URL | Postgres URL of the application role (not owner, not superuser: RLS applies) |
| DATABASE_URL | owner/admin URL, used only by ``omni migrate`` and the dev launcher |
| KAFKA_BOOTSTRAP | comma-separated bootstrap servers |
| KAFKA_IDEMPOTENT | idempotent producer: on for Apache Kafka, off for Tansu (no InitProducerId) |
| KAFKA_FETCH_MAX_WAIT_MS | a consumer fetch's longest wait at the broker (Tansu: per hop) |
| S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY, S3_SECRET_KEY, S3_REGION | the object store |
| CREDENTIAL_KEYS | comma-separated Fernet keys; the first encrypts, all decrypt (rotation) |
| JWT_* | how agents' tokens are checked (see ``AuthSettings``) |
| LOG_FORMAT, LOG_LEVEL | ``json`` in deployment, ``console`` in development |
| PROVIDER_EGRESS | ``internet`` (deployment) or ``loopback``: provider calls only to this machine |
| PROVIDER_EGRESS_ALLOW | ``host[:port]`` list reachable although not public (the simulator) |
| PROVIDER_ALLOW_HTTP | ``true`` lets provider calls use plain http (development only) |
| OTEL_EXPORTER_OTLP_ENDPOINT | OTLP/HTTP collector traces go to (unset: tracing off) |
| OMNI_ENV | ``production`` refuses development defaults at startup (``config.production``) |
"""

from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from providers.egress import EgressPolicy, parse_targets


class DatabaseSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    app_database_url: SecretStr
    db_pool_min: int = 1
    db_pool_max: int = 10
    db_command_timeout_s: float = 10.0


class KafkaSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KAFKA_", extra="ignore")

    bootstrap: str
    idempotent: bool = False
    client_id: str = "omni"
    request_timeout_ms: int = 10_000
    # How long a consumer's fetch may wait at the broker for data. Apache Kafka answers as soon
    # as data arrives, so this only bounds idle polling there; Tansu answers only when the wait
    # is over, so on it every consumer hop costs up to this much latency (the embedded launcher
    # sets 20).
    fetch_max_wait_ms: int = 100


class S3Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="S3_", extra="ignore")

    endpoint: str | None = None  # None: the AWS default endpoint
    bucket: str = "omni-media"
    access_key: SecretStr = SecretStr("omni")
    secret_key: SecretStr = SecretStr("omni-secret")
    region: str = "us-east-1"


class CredentialSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    credential_keys: SecretStr = Field(
        description="Comma-separated Fernet keys, newest first; the first one encrypts."
    )


class AuthSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JWT_", extra="ignore")

    algorithm: Literal["HS256", "RS256", "ES256"] = "HS256"
    secret: SecretStr | None = None  # HS256 shared secret (Supabase-style)
    jwks_url: str | None = None  # RS256/ES256
    issuer: str = "omni-dev"
    audience: str = "omni"
    leeway_s: int = 30


class LogSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOG_", extra="ignore")

    format: Literal["json", "console"] = "json"
    level: str = "INFO"


class EgressSettings(BaseSettings):
    """Where provider calls may go (see ``providers.egress``)."""

    model_config = SettingsConfigDict(env_prefix="PROVIDER_", extra="ignore")

    egress: Literal["internet", "loopback"] = "internet"
    egress_allow: str = ""  # host[:port], comma separated: reachable although not public
    allow_http: bool = False  # development: the simulator speaks plain http

    @field_validator("egress_allow")
    @classmethod
    def _valid_targets(cls, value: str) -> str:
        parse_targets(value)  # raises ValueError naming the bad entry
        return value

    def policy(self) -> EgressPolicy:
        return EgressPolicy(
            allow=parse_targets(self.egress_allow),
            allow_http=self.allow_http,
            loopback_only=self.egress == "loopback",
        )


class EnvironmentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OMNI_", extra="ignore")

    env: Literal["development", "production"] = "development"


class TraceSettings(BaseSettings):
    """OpenTelemetry's own variables: spans are exported over OTLP/HTTP to
    ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``, or to ``OTEL_EXPORTER_OTLP_ENDPOINT`` + ``/v1/traces``;
    neither set (or ``OTEL_SDK_DISABLED=true``): tracing is off (``telemetry.tracing``)."""

    model_config = SettingsConfigDict(env_prefix="OTEL_", extra="ignore")

    exporter_otlp_endpoint: str | None = None
    exporter_otlp_traces_endpoint: str | None = None
    sdk_disabled: bool = False

    def traces_endpoint(self) -> str | None:
        if self.sdk_disabled:
            return None
        if self.exporter_otlp_traces_endpoint:
            return self.exporter_otlp_traces_endpoint
        if self.exporter_otlp_endpoint:
            return self.exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
        return None
