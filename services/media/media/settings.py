"""The media service's settings, read once at startup (``config.load``).

| variable | default | meaning |
|---|---|---|
| MEDIA_HOST, MEDIA_PORT | 0.0.0.0, 8080 | where media-api listens |
| OPS_PORT | 9102 | /healthz /readyz /metrics of media-worker and media-api (not public) |
| MEDIA_MAX_JSON_BODY_BYTES | 65536 | largest body of any route but uploads (413 while received) |
| MEDIA_CONCURRENCY | 4 | fetches in flight per worker process |
| MEDIA_BATCH_SIZE | 8 | fetch requests taken from the topic at a time |
| MEDIA_POLL_WAIT_MS | 250 | least fetch wait of media-worker at the broker (ms) |
| MEDIA_FETCH_ATTEMPTS | 3 | tries of a fetch that fails transiently before it is marked failed |
| MEDIA_RETRY_INITIAL_S, MEDIA_RETRY_MAX_S | 0.5, 10 | backoff between those tries |
| MEDIA_RETRY_LATER_S | 60 | still failing: next try this much later, 4 times longer each time |
| MEDIA_RETRY_FOR_S | 604800 | ...at most 2 h apart, until the message is this old (7 days) |
| MEDIA_RETRY_SCAN_S | 15 | how often media-worker looks for tries that are due |
| MEDIA_PART_SIZE_MB | 5 | multipart part size: the memory one transfer holds |
| MEDIA_PRESIGN_TTL_S | 300 | lifetime of a download URL |
| MEDIA_PRESIGN_ENDPOINT | S3_ENDPOINT | the store's address as browsers reach it |
| MEDIA_CONNECT_TIMEOUT_S, MEDIA_READ_TIMEOUT_S | 5, 30 | provider HTTP timeouts |
| MEDIA_ALLOWED_ORIGINS | "" | comma-separated browser Origins allowed by CORS (web inbox) |

Plus the shared ones: APP_DATABASE_URL, KAFKA_*, S3_*, CREDENTIAL_KEYS, JWT_*, LOG_*, and
PROVIDER_EGRESS / PROVIDER_EGRESS_ALLOW / PROVIDER_ALLOW_HTTP (where fetches may go: public
addresses only, the allow-list naming the simulator in development and tests).
"""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class MediaSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MEDIA_", extra="ignore")

    host: str = "0.0.0.0"
    port: int = Field(8080, ge=1, le=65535)
    ops_port: int = Field(9102, ge=1, le=65535, validation_alias="OPS_PORT")
    max_json_body_bytes: int = Field(64 * 1024, gt=0)
    concurrency: int = Field(4, ge=1, le=64)
    batch_size: int = Field(8, ge=1, le=200)
    # A media fetch takes seconds; a quarter of a second more before it starts is not seen.
    # Tansu answers a fetch only when its wait is over, so the shared 20 ms of the embedded
    # stack made media-worker poll 50 times a second, mostly for nothing (docs/architecture.md).
    poll_wait_ms: int = Field(250, ge=1, le=10_000)
    fetch_attempts: int = Field(3, ge=1, le=10)
    retry_initial_s: float = Field(0.5, gt=0)
    retry_max_s: float = Field(10.0, gt=0)
    retry_later_s: float = Field(60.0, gt=0)
    retry_for_s: float = Field(7 * 24 * 3600.0, gt=0)
    retry_scan_s: float = Field(15.0, gt=0)
    part_size_mb: int = Field(5, ge=5, le=64)
    presign_ttl_s: int = Field(300, ge=10, le=3600)
    presign_endpoint: str | None = None
    connect_timeout_s: float = Field(5.0, gt=0)
    read_timeout_s: float = Field(30.0, gt=0)
    # The web inbox on another origin than media-api (development); behind one ingress the
    # inbox and media-api share an origin and this stays empty.
    allowed_origins: str = ""

    @property
    def origins(self) -> list[str]:
        return [o.strip() for o in self.allowed_origins.split(",") if o.strip()]

    @property
    def part_size(self) -> int:
        return self.part_size_mb * 1024 * 1024
