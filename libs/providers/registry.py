"""Provider name → codec, client and webhook secrets: the one door into the adapters."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from contracts.common import Provider
from providers.base import ParsedWebhook, ProviderClient, Rejection, WebhookCodec, WebhookSecrets
from providers.evolution import parse as evolution_parse
from providers.evolution import verify as evolution_verify
from providers.evolution.client import EvolutionClient
from providers.meta import parse as meta_parse
from providers.meta import verify as meta_verify
from providers.meta.client import MetaClient
from providers.zapi import parse as zapi_parse
from providers.zapi import verify as zapi_verify
from providers.zapi.client import ZapiClient


@dataclass
class Codec:
    provider: Provider
    _verify: Callable[[Mapping[str, str], bytes, WebhookSecrets], Rejection | None]
    _parse: Callable[[bytes], ParsedWebhook | Rejection]

    def verify(
        self, headers: Mapping[str, str], body: bytes, secrets: WebhookSecrets
    ) -> Rejection | None:
        return self._verify(headers, body, secrets)

    def parse(self, body: bytes) -> ParsedWebhook | Rejection:
        return self._parse(body)


_CODECS: dict[Provider, Codec] = {
    Provider.META: Codec(Provider.META, meta_verify.verify, meta_parse.parse),
    Provider.EVOLUTION: Codec(Provider.EVOLUTION, evolution_verify.verify, evolution_parse.parse),
    Provider.ZAPI: Codec(Provider.ZAPI, zapi_verify.verify, zapi_parse.parse),
}


def codec(provider: Provider | str) -> WebhookCodec:
    return _CODECS[Provider(provider)]


def client(
    provider: Provider | str,
    credentials: Mapping[str, Any],
    http: httpx.AsyncClient,
    *,
    base_url: str | None = None,
) -> ProviderClient:
    """A client for one integration. ``base_url`` replaces the provider host (simulator,
    Evolution's self-hosted server). Raises KeyError naming a missing credential."""
    kind = Provider(provider)
    if kind is Provider.META:
        return MetaClient(credentials, http, base_url=base_url)
    if kind is Provider.EVOLUTION:
        return EvolutionClient(credentials, http, base_url=base_url)
    return ZapiClient(credentials, http, base_url=base_url)


def webhook_secrets(
    provider: Provider | str, credentials: Mapping[str, Any], verify_token: str | None
) -> WebhookSecrets:
    kind = Provider(provider)
    if kind is Provider.META:
        return WebhookSecrets(app_secret=_opt(credentials, "app_secret"), verify_token=verify_token)
    return WebhookSecrets(
        webhook_secret=_opt(credentials, "webhook_secret"), verify_token=verify_token
    )


def _opt(credentials: Mapping[str, Any], key: str) -> str | None:
    value = credentials.get(key)
    return str(value) if value else None
