"""Z-API webhook authentication: the secret query token of the callback URL, handed over by
ingest as a header (Z-API signs nothing; see ``providers.secret``)."""

from collections.abc import Mapping

from providers.base import Rejection, WebhookSecrets
from providers.secret import verify_shared_secret


def verify(headers: Mapping[str, str], body: bytes, secrets: WebhookSecrets) -> Rejection | None:
    return verify_shared_secret(headers, secrets)
