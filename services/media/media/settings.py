"""The media service's settings, read once at startup (``config.load``).

| variable | default | meaning |
|---|---|---|
| MEDIA_HOST, MEDIA_PORT | 0.0.0.0, 8080 | where media-api listens |
| OPS_PORT | 9102 | media-worker's /healthz /readyz /metrics |
| MEDIA_CONCURRENCY | 4 | fetches in flight per worker process |
| MEDIA_BATCH_SIZE | 8 | fetch requests taken from the topic at a time |
| MEDIA_FETCH_ATTEMPTS | 3 | tries of a fetch that fails transiently before it is marked failed |
| MEDIA_RETRY_INITIAL_S, MEDIA_RETRY_MAX_S | 0.5, 10 | backoff between those tries |
| MEDIA_ALLOWED_PRIVATE_HOSTS | "" | ``host[:port]`` list exempt from the SSRF address rule |
| MEDIA_PART_SIZE_MB | 5 | multipart part size: the memory one transfer holds |
| MEDIA_PRESIGN_TTL_S | 300 | lifetime of a download URL |
| MEDIA_PRESIGN_ENDPOINT | S3_ENDPOINT | the store's address as browsers reach it |
| MEDIA_CONNECT_TIMEOUT_S, MEDIA_READ_TIMEOUT_S | 5, 30 | provider HTTP timeouts |
| MEDIA_ALLOWED_ORIGINS | "" | comma-separated browser Origins allowed by CORS (web inbox) |

MEDIA_ALLOWED_PRIVATE_HOSTS names the simulator in development and tests; it stays empty in
production. Plus the shared ones: APP_DATABASE_URL, KAFKA_*, S3_*, CREDENTIAL_KEYS, JWT_*, LOG_*.
"""

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from media.ssrf import Exemption, parse_exemptions


class MediaSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MEDIA_", extra="ignore")

    host: str = "0.0.0.0"
    port: int = Field(8080, ge=1, le=65535)
    ops_port: int = Field(9102, ge=1, le=65535, validation_alias="OPS_PORT")
    concurrency: int = Field(4, ge=1, le=64)
    batch_size: int = Field(8, ge=1, le=200)
    fetch_attempts: int = Field(3, ge=1, le=10)
    retry_initial_s: float = Field(0.5, gt=0)
    retry_max_s: float = Field(10.0, gt=0)
    allowed_private_hosts: str = ""
    part_size_mb: int = Field(5, ge=5, le=64)
    presign_ttl_s: int = Field(300, ge=10, le=3600)
    presign_endpoint: str | None = None
    connect_timeout_s: float = Field(5.0, gt=0)
    read_timeout_s: float = Field(30.0, gt=0)
    # The web inbox on another origin than media-api (development); behind one ingress the
    # inbox and media-api share an origin and this stays empty.
    allowed_origins: str = ""

    @field_validator("allowed_private_hosts")
    @classmethod
    def _valid_hosts(cls, value: str) -> str:
        parse_exemptions(value)  # raises ValueError naming the bad entry
        return value

    @property
    def exemptions(self) -> frozenset[Exemption]:
        return parse_exemptions(self.allowed_private_hosts)

    @property
    def origins(self) -> list[str]:
        return [o.strip() for o in self.allowed_origins.split(",") if o.strip()]

    @property
    def part_size(self) -> int:
        return self.part_size_mb * 1024 * 1024
