"""An HTTP request described as data, so request building stays pure and testable, and the
generic HTTP-status classification shared by providers without their own error codes."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from providers.errors import AuthFailed, Permanent, ProviderFailure, RateLimited, Retryable


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)


def retry_after(headers: Mapping[str, str]) -> float | None:
    for key, value in headers.items():
        if key.lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except ValueError:
                return None
    return None


def classify_http(
    status: int, reason: str, *, retry_after_s: float | None = None, code: str | None = None
) -> ProviderFailure:
    """Failure type from the HTTP status alone (Evolution and Z-API publish no error codes)."""
    if status == 429:
        return RateLimited(reason, retry_after_s=retry_after_s, code=code, status=status)
    if status in (401, 403):
        return AuthFailed(reason, code=code, status=status)
    if status >= 500 or status in (408, 425):
        return Retryable(reason, code=code, status=status)
    return Permanent(reason, code=code, status=status)
