"""Settings of the ingest service (both processes), read once at startup with ``config.load``.

Variables (defaults in the class):

- INGEST_API_HOST / INGEST_API_PORT: where ingest-api listens.
- INGEST_MAX_BODY_BYTES: larger webhook bodies are refused with 413.
- INGEST_ROUTE_CACHE_TTL_S: how long an integration lookup (with its decrypted secrets) is
  reused; a disabled integration stops being accepted within this time.
- INGEST_PUBLISH_TIMEOUT_S: how long a publish round waits for the broker's ack; a webhook
  whose round is not acknowledged gets a 503 within twice this (its round may queue behind one
  that is timing out).
- INGEST_PUBLISH_LINGER_MS: how long a publish round with only a few webhooks waits for more
  (fewer, larger produce requests under a light load; 0: none).
- INGEST_PUBLISHER: ``rounds`` (default, the batching publisher above) or ``faststream``
  (FastStream's publisher, as the other services publish; slower here, see make bench).
- META_APP_SECRET / META_VERIFY_TOKEN: the Meta app behind the app-level ``/webhooks/meta``
  (unset: that endpoint refuses everything).
- OPS_PORT: /healthz /readyz /metrics of ingest-worker and of ingest-api (never on its public port).
- INGEST_GROUP_ID: the worker's consumer group (default ingest-worker).
- INGEST_SESSION_TIMEOUT_MS: consumer-group session timeout (a crashed worker's partitions
  move after this).
- INGEST_BATCH_MAX: records per consumed batch (one transaction per tenant per batch).
- INGEST_RECONCILE_INTERVAL_S / INGEST_PARKED_MAX_AGE_S: how often parked statuses are
  matched again, and when an unmatched one is dropped.
"""

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class IngestSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INGEST_", extra="ignore")

    api_host: str = "0.0.0.0"
    api_port: int = 8010
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    route_cache_ttl_s: float = Field(default=5.0, ge=0)
    publish_timeout_s: float = Field(default=5.0, gt=0)
    publish_linger_ms: float = Field(default=2.0, ge=0, le=50)
    # "rounds": concurrent webhooks' records in one batch per partition (bus.rounds); or
    # "faststream", FastStream's publisher as every other service uses (make bench compares).
    publisher: Literal["rounds", "faststream"] = "rounds"
    meta_app_secret: SecretStr | None = Field(default=None, validation_alias="META_APP_SECRET")
    meta_verify_token: SecretStr | None = Field(default=None, validation_alias="META_VERIFY_TOKEN")

    ops_port: int = Field(default=9110, validation_alias="OPS_PORT")
    group_id: str = "ingest-worker"
    # How soon the group notices a crashed worker and hands its partitions to another.
    session_timeout_ms: int = Field(default=10_000, ge=1000)
    batch_max: int = Field(default=200, gt=0, le=2000)
    reconcile_interval_s: float = Field(default=2.0, gt=0)
    parked_max_age_s: float = Field(default=7 * 24 * 3600, gt=0)
