"""What a provider failure means for the message: the outcome written on the row.

Pure: a ``ProviderFailure`` (or the end of the retries) in, an ``Outcome`` out, with an
``error_code`` the frontend can branch on and an ``error_reason`` an agent can read.

    Retryable / RateLimited   retried (see backoff.py); after the last attempt: retries_exhausted
    Ambiguous                 outcome_unknown: the message may have been sent; it is left in
                              the status 'unknown' (not 'failed'), never sent again
                              automatically, and moves on when the provider reports it
    WindowClosed              window_closed: a template is needed, never retried
    Permanent                 rejected: the provider's reason, never retried
    AuthFailed                auth_failed: the integration is flagged 'needs_attention'
"""

from dataclasses import dataclass

from providers.errors import Ambiguous, AuthFailed, ProviderFailure, Retryable, WindowClosed

# The code of every "may have been sent" outcome: the message ends in the status 'unknown'.
OUTCOME_UNKNOWN = "outcome_unknown"

WINDOW_REASON = (
    "The 24-hour customer service window is closed: the customer has not written in the last "
    "24 hours, so only an approved template can be sent."
)
UNKNOWN_REASON = (
    "outcome unknown: the dispatcher stopped while the provider was being called, so the "
    "message may have been sent. Check with the customer before sending it again."
)
AMBIGUOUS_REASON = (
    "outcome unknown: the message may have been sent ({detail}). It will not be sent again "
    "automatically and updates if the provider reports it; check with the customer before "
    "sending it again."
)


@dataclass(frozen=True)
class Failed:
    """The message ends 'failed' with this code and reason."""

    error_code: str
    error_reason: str
    # Set when the integration itself must be looked at (expired or revoked token).
    integration_reason: str | None = None

    @property
    def unknown(self) -> bool:
        """The message may have been sent: it ends 'unknown' instead of 'failed'."""
        return self.error_code == OUTCOME_UNKNOWN


def _detail(failure: ProviderFailure) -> str:
    code = f" (provider code {failure.code})" if failure.code else ""
    return f"{failure.reason}{code}"


def failed_for(failure: ProviderFailure) -> Failed:
    """The outcome of a failure that is not retried (or no longer)."""
    if isinstance(failure, WindowClosed):
        return Failed("window_closed", WINDOW_REASON)
    if isinstance(failure, AuthFailed):
        reason = f"The provider refused the integration's credentials: {_detail(failure)}"
        return Failed("auth_failed", reason, integration_reason=reason)
    if isinstance(failure, Ambiguous):
        return Failed(OUTCOME_UNKNOWN, AMBIGUOUS_REASON.format(detail=_detail(failure)))
    if isinstance(failure, Retryable):
        return Failed(
            "retries_exhausted",
            f"The provider did not accept the message after several attempts: {_detail(failure)}",
        )
    return Failed("rejected", f"The provider rejected the message: {_detail(failure)}")


def outcome_unknown() -> Failed:
    """An attempt that never reported back (a claim found standing, the sweep's bound)."""
    return Failed(OUTCOME_UNKNOWN, UNKNOWN_REASON)


def stuck_in_queue(age_s: float) -> Failed:
    return Failed(
        "not_dispatched",
        f"The message was not handed to the provider within {int(age_s)} seconds; it was not sent.",
    )


def integration_unavailable(status: str, reason: str | None) -> Failed:
    why = f": {reason}" if reason else ""
    return Failed(
        "integration_unavailable",
        f"The WhatsApp number's integration is {status.replace('_', ' ')}{why}",
    )


def invalid_media(reason: str) -> Failed:
    return Failed("invalid_media", reason)
