"""Evolution webhook authentication. Evolution signs no body; what it can send is configured in
the instance's ``webhook.headers`` (https://doc.evolution-api.com/v2/en/configuration/webhooks,
custom headers documented in EvolutionAPI/docs-evolution PR #22):

- a static header: we ask for ``X-Webhook-Token: <webhook_secret>`` (``providers.secret``), or
- the special ``jwt_key`` entry: Evolution then sends ``Authorization: Bearer <JWT>`` signed HS256
  with that key, 10-minute expiry, claim ``app: "evolution"``. Set ``jwt_key`` to the
  integration's webhook secret and either form is accepted.

Neither binds the body; ingest also checks that the body's ``instance`` is the integration's.
"""

from collections.abc import Mapping

import jwt

from providers.base import Rejection, WebhookSecrets
from providers.headers import header
from providers.secret import TOKEN_HEADER, verify_shared_secret


def verify(headers: Mapping[str, str], body: bytes, secrets: WebhookSecrets) -> Rejection | None:
    if header(headers, TOKEN_HEADER) is not None:
        return verify_shared_secret(headers, secrets)
    authorization = header(headers, "Authorization") or ""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return Rejection(f"missing {TOKEN_HEADER} or Authorization: Bearer", status=401)
    if not secrets.webhook_secret:
        return Rejection("integration has no webhook secret configured", status=401)
    try:
        claims = jwt.decode(
            token,
            secrets.webhook_secret,
            algorithms=["HS256"],
            options={"require": ["exp", "iat"]},
            leeway=30,
        )
    except jwt.PyJWTError as exc:
        return Rejection(f"webhook JWT refused ({type(exc).__name__})", status=401)
    if claims.get("app") != "evolution":
        return Rejection("webhook JWT was not issued by Evolution", status=401)
    return None
