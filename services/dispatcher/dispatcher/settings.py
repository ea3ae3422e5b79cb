"""The dispatcher's own settings (``DISPATCHER_*`` and ``OPS_PORT``), read once at startup.

Infrastructure settings (database, Kafka, S3, credential keys, logging) are the shared classes
of ``libs/config``; these are the knobs of sending itself.
"""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DispatcherSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DISPATCHER_", extra="ignore")

    ops_port: int = Field(default=9103, validation_alias="OPS_PORT")
    group_id: str = "dispatcher"
    # Records taken per poll, and held at once (each conversation is one sequential lane).
    max_records: int = Field(default=200, ge=1, le=1000)
    max_in_flight: int = Field(default=1000, ge=1, le=100_000)
    # Provider calls in flight at once in this process (lanes waiting on a bucket hold none).
    concurrency: int = Field(default=32, ge=1, le=512)
    # Provider retries: attempts in total, exponential backoff with jitter between them.
    max_attempts: int = Field(default=5, ge=1, le=20)
    retry_initial_s: float = Field(default=0.5, gt=0)
    retry_max_s: float = Field(default=20.0, gt=0)
    # A provider's Retry-After is honoured up to this long; longer hints are cut to it.
    max_retry_after_s: float = Field(default=60.0, gt=0)
    # Token-bucket rate per integration when integrations.rate_limit_per_s is NULL
    # (None: the provider's documented default, see ratelimit.py).
    default_rate_per_s: float | None = Field(default=None, gt=0)
    # Presigned links to outbound media in our bucket live this long, and are signed for this
    # endpoint: the providers fetch them from the internet, so in deployment it is the
    # object store's public address (None: S3_ENDPOINT, fine for development).
    media_url_ttl_s: int = Field(default=900, ge=60, le=7 * 24 * 3600)
    media_public_endpoint: str | None = None
    # Recording an outcome (the provider has answered) is retried over database errors that
    # say "briefly unavailable" for this long: a send the provider accepted must end 'sent'.
    record_retry_s: float = Field(default=30.0, gt=0, le=600)
    # Provider HTTP timeouts.
    http_connect_s: float = Field(default=5.0, gt=0)
    http_read_s: float = Field(default=30.0, gt=0)
    # The stuck-message sweep: queued with no attempt after ``requeue_after_s`` is published
    # again; still queued after ``fail_after_s`` is failed; an attempt with no outcome after
    # ``unknown_after_s`` is failed as "outcome unknown".
    sweep_interval_s: float = Field(default=30.0, gt=0)
    requeue_after_s: float = Field(default=60.0, gt=0)
    fail_after_s: float = Field(default=900.0, gt=0)
    unknown_after_s: float = Field(default=300.0, gt=0)
    sweep_batch: int = Field(default=500, ge=1, le=10_000)
    # Kafka group membership: short so a crashed process's partitions move quickly.
    session_timeout_ms: int = Field(default=10_000, ge=1000)
    heartbeat_interval_ms: int = Field(default=1000, ge=100)
