"""An HTTP request described as data, so request building stays pure and testable, the
generic HTTP-status classification shared by providers without their own error codes, and
the answers to a send that leave it unsure whether the message went out."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from providers.errors import (
    Ambiguous,
    AuthFailed,
    Permanent,
    ProviderFailure,
    RateLimited,
    Retryable,
)


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


# A server, or a proxy in front of it, may answer these after the request was acted on (the
# proxy lost the upstream's answer, the application crashed after sending). Only the
# provider's own error answer (its error envelope) says the request was refused.
_UNSURE_STATUSES = frozenset({500, 502, 503, 504})


def unsure_send(provider: str, status: int, *, own_error: bool) -> Ambiguous | None:
    """The ``Ambiguous`` of a send answered with a 5xx that is not the provider's own error
    answer; None when the status says something definite."""
    if status in _UNSURE_STATUSES and not own_error:
        return Ambiguous(
            f"{provider} answered HTTP {status} without its own error answer, so the message "
            "may have been sent",
            status=status,
        )
    return None


def no_message_id(provider: str, status: int) -> Ambiguous:
    """A send the provider accepted (2xx) without saying which message it made."""
    return Ambiguous(
        f"{provider} accepted the request (HTTP {status}) but answered without a message id, "
        "so the message may have been sent",
        status=status,
    )
