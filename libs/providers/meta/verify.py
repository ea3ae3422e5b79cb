"""Meta webhook authentication: ``X-Hub-Signature-256`` on POSTs and the GET verify handshake.

Source: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/create-webhook-endpoint
The signature is HMAC-SHA256 of the exact body bytes keyed with the app secret; hashing a
re-serialised body breaks on non-ASCII text, so only the raw bytes are ever hashed.
"""

import hashlib
import hmac
from collections.abc import Mapping

from providers.base import Rejection, WebhookSecrets
from providers.headers import header

SIGNATURE_HEADER = "X-Hub-Signature-256"


def sign(body: bytes, app_secret: str) -> str:
    """The header value Meta would send for ``body`` (also used by the simulator)."""
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(headers: Mapping[str, str], body: bytes, secrets: WebhookSecrets) -> Rejection | None:
    if not secrets.app_secret:
        return Rejection("integration has no app secret configured", status=401)
    received = header(headers, SIGNATURE_HEADER)
    if received is None:
        return Rejection(f"missing {SIGNATURE_HEADER} header", status=401)
    if not hmac.compare_digest(received.strip().encode(), sign(body, secrets.app_secret).encode()):
        return Rejection(f"{SIGNATURE_HEADER} does not match the body", status=401)
    return None


def handshake(params: Mapping[str, str], verify_token: str | None) -> str | Rejection:
    """Answer Meta's GET ``hub.mode=subscribe`` check: the challenge to echo (HTTP 200 body) or a
    rejection (403)."""
    if params.get("hub.mode") != "subscribe":
        return Rejection("hub.mode must be 'subscribe'", status=400)
    token = params.get("hub.verify_token")
    challenge = params.get("hub.challenge")
    if challenge is None:
        return Rejection("missing hub.challenge", status=400)
    if not verify_token or token is None:
        return Rejection("verify token missing", status=403)
    if not hmac.compare_digest(token.encode(), verify_token.encode()):
        return Rejection("verify token does not match", status=403)
    return challenge
