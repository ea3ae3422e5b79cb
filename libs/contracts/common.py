"""Small vocabularies used across the contracts."""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    """Base for every contract model: immutable, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Provider(StrEnum):
    META = "meta"
    EVOLUTION = "evolution"
    ZAPI = "zapi"


class ErrorClass(StrEnum):
    """How a provider error must be handled; the dispatcher branches on it."""

    RETRYABLE = "retryable"  # nothing sent: connection errors, the provider's own 5xx
    RATE_LIMITED = "rate_limited"  # 429 / throttling, maybe with a retry hint
    PERMANENT = "permanent"  # bad number, 24-hour window closed, invalid parameter
    AUTH = "auth"  # token expired or revoked: the integration needs attention
    # The call ended without saying whether it took effect (read timeout after the request
    # was written, a proxy's 502/503/504, a 2xx without the message id): never resent.
    AMBIGUOUS = "ambiguous"
