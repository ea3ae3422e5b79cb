"""What can go wrong at a provider, as types the caller branches on.

    ProviderFailure                 anything the provider (or the way to it) said no to
    ├── Retryable                   nothing was sent (connection not made, request not
    │                               written, the provider's own 5xx): try again later
    │   └── RateLimited             429 / throttling codes; retry_after_s when the provider hints
    ├── Ambiguous                   the call may have taken effect: read timeout or reset
    │                               after the request was written, a 5xx that is not the
    │                               provider's own error answer (a proxy's 502/503/504, a
    │                               bare 500), a 2xx without the message id. A send that
    │                               ends so is never repeated; idempotent calls (mark read,
    │                               health, media) may be (``as_retryable``)
    ├── Permanent                   bad number, 24-hour window closed, invalid parameter:
    │                               do not retry; ``reason`` is written for the agent
    └── AuthFailed                  token expired or revoked: flag the integration

Only the edges translate these: the dispatcher into retry / fail / dead letter, the HTTP
edge into problem details.
"""

from contracts.common import ErrorClass


class ProviderFailure(Exception):
    error_class: ErrorClass = ErrorClass.PERMANENT

    def __init__(self, reason: str, *, code: str | None = None, status: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.status = status


class Retryable(ProviderFailure):
    error_class = ErrorClass.RETRYABLE


class RateLimited(Retryable):
    error_class = ErrorClass.RATE_LIMITED

    def __init__(
        self,
        reason: str,
        *,
        retry_after_s: float | None = None,
        code: str | None = None,
        status: int | None = None,
    ):
        super().__init__(reason, code=code, status=status)
        self.retry_after_s = retry_after_s


class Ambiguous(ProviderFailure):
    """The provider may have acted on the call (deliberately not a ``Retryable``)."""

    error_class = ErrorClass.AMBIGUOUS


def as_retryable(failure: Ambiguous) -> Retryable:
    """For calls that may safely happen twice: an ambiguous end is just a failure to retry."""
    retry = Retryable(failure.reason, code=failure.code, status=failure.status)
    retry.__cause__ = failure
    return retry


class Permanent(ProviderFailure):
    error_class = ErrorClass.PERMANENT


class WindowClosed(Permanent):
    """The 24-hour customer-service window is closed: only a template can be sent."""


class AuthFailed(ProviderFailure):
    error_class = ErrorClass.AUTH
