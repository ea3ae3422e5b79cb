"""Shared-secret check for providers that sign nothing (Evolution, Z-API).

Both send the per-integration secret as the ``X-Webhook-Token`` header as ingest sees it:
Evolution sends it itself (a static header configured in ``webhook.headers`` when the
instance's webhook is set: https://doc.evolution-api.com/v2/en/configuration/webhooks); Z-API can
send no custom header (https://developer.z-api.io/en/webhooks/introduction), so its callback URL
carries ``?token=<secret>`` and ingest-api copies that query parameter into this header before
calling ``verify``. The account check (body instance == integration account) is done by ingest
on ``ParsedWebhook.account_refs`` after parsing.
"""

import hmac
from collections.abc import Mapping

from providers.base import Rejection, WebhookSecrets
from providers.headers import header

TOKEN_HEADER = "X-Webhook-Token"
ZAPI_QUERY_PARAM = "token"


def verify_shared_secret(headers: Mapping[str, str], secrets: WebhookSecrets) -> Rejection | None:
    if not secrets.webhook_secret:
        return Rejection("integration has no webhook secret configured", status=401)
    received = header(headers, TOKEN_HEADER)
    if received is None:
        return Rejection(f"missing {TOKEN_HEADER}", status=401)
    if not hmac.compare_digest(received.encode(), secrets.webhook_secret.encode()):
        return Rejection(f"{TOKEN_HEADER} does not match", status=401)
    return None
