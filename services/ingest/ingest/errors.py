"""Why ingest-api refuses a webhook, as types the HTTP edge turns into problem details.

Refused(status, code, reason)      answered with ``status``; nothing was published
├── BodyTooLarge                   413
├── UnknownIntegration             404
├── NotAuthentic                   401/403: signature or secret wrong (counted, logged)
├── IntegrationDisabled            403
├── ForeignAccount                 403: the body names an account that is not the integration's
└── NotJson                        400
BrokerUnavailable                  503: the provider must retry; nothing was acknowledged
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


class BrokerUnavailable(Exception):
    status = 503
    code = "broker_unavailable"
