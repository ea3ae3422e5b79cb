"""The gateway's settings (``GATEWAY_*``), read once at startup, plus the shared ones it uses."""

from dataclasses import dataclass, field

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.load import load
from config.shared import (
    AuthSettings,
    CredentialSettings,
    DatabaseSettings,
    EgressSettings,
    KafkaSettings,
    LogSettings,
)
from realtime.protocol import Limits


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    host: str = "0.0.0.0"
    port: int = 8080
    # /healthz /readyz /metrics: their own port, never the public one (``telemetry.ops``).
    ops_port: int = Field(default=9180, validation_alias="OPS_PORT")
    # Largest JSON request body, refused with 413 while it is received (``telemetry.bodycap``).
    max_body_bytes: int = Field(default=256 * 1024, gt=0)
    # Public base URL of ingest-api; webhook URLs handed to admins are built from it.
    ingest_public_url: str = "http://127.0.0.1:8081"
    # Comma-separated Origins browsers may connect from; "*" allows any. Clients that send no
    # Origin (servers, CLIs) are not browsers and are let through.
    allowed_origins: str = ""
    auth_timeout_s: float = 5.0
    # How often open sessions' users are checked to still be members (closed with 4403).
    membership_check_s: float = Field(default=5.0, gt=0)
    send_queue_max: int = 1000
    max_replay: int = 500
    max_channels: int = 200
    max_frame_bytes: int = 64 * 1024
    frames_per_s: float = 10.0
    frames_burst: int = 30
    ping_interval_s: float = 20.0
    # permessage-deflate for clients that offer it: less bandwidth to browsers on slow links,
    # a compression per connection per frame on the gateway (fan-out costs several times more).
    ws_compression: bool = False
    ping_timeout_s: float = 20.0
    close_timeout_s: float = 5.0
    provider_timeout_s: float = 10.0

    @property
    def origins(self) -> frozenset[str]:
        return frozenset(o.strip() for o in self.allowed_origins.split(",") if o.strip())

    @property
    def limits(self) -> Limits:
        return Limits(
            max_queue=self.send_queue_max,
            max_replay=self.max_replay,
            max_channels=self.max_channels,
            frames_per_s=self.frames_per_s,
            frames_burst=self.frames_burst,
            auth_timeout_s=self.auth_timeout_s,
        )


@dataclass(frozen=True)
class Config:
    gateway: GatewaySettings
    database: DatabaseSettings
    kafka: KafkaSettings
    auth: AuthSettings
    credentials: CredentialSettings
    log: LogSettings
    egress: EgressSettings = field(default_factory=EgressSettings)


def load_config() -> Config:
    return Config(
        gateway=load(GatewaySettings),
        database=load(DatabaseSettings),
        kafka=load(KafkaSettings),
        auth=load(AuthSettings),
        credentials=load(CredentialSettings),
        log=load(LogSettings),
        egress=load(EgressSettings),
    )


def origin_allowed(origin: str | None, allowed: frozenset[str]) -> bool:
    if origin is None:
        return True
    return "*" in allowed or origin in allowed
