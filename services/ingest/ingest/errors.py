"""Why ingest-api refuses a webhook, as types the HTTP edge turns into problem details.

Refused(status, code, reason)      answered with ``status``; nothing was published
├── BodyTooLarge                   413
├── UnknownIntegration             404
├── NotAuthentic                   401/403: signature or secret wrong (counted, logged)
├── IntegrationDisabled            403
├── ForeignAccount                 403: the body names an account that is not the integration's
└── NotJson                        400
Unavailable                        503 + Retry-After: the provider must retry; nothing was
├── BrokerUnavailable              acknowledged (the broker did not ack the events, or the
└── DatabaseUnavailable            database could not route a webhook never seen before)
"""


class Refused(Exception):
    status = 400
    code = "refused"

    def __init__(self, reason: str, *, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        if status is not None:
            self.status = status


class BodyTooLarge(Refused):
    status = 413
    code = "body_too_large"


class UnknownIntegration(Refused):
    status = 404
    code = "unknown_integration"


class NotAuthentic(Refused):
    status = 401
    code = "not_authentic"


class IntegrationDisabled(Refused):
    status = 403
    code = "integration_disabled"


class ForeignAccount(Refused):
    status = 403
    code = "foreign_account"


class NotJson(Refused):
    status = 400
    code = "malformed_json"


class Unavailable(Exception):
    """An infrastructure fault, never the webhook's: answered 503 with Retry-After."""

    status = 503
    code = "unavailable"
    retry_after_s = 5


class BrokerUnavailable(Unavailable):
    code = "broker_unavailable"


class DatabaseUnavailable(Unavailable):
    code = "database_unavailable"
