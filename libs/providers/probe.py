"""Read-only probes of a provider account, answered as categories, never the provider's body.

``verify``: do these credentials control the account? Asked before an integration becomes
active, so nobody can connect (and receive the webhooks of) a number they do not own.
``health``: is the account usable now? What ``GET /v1/integrations/{id}/health`` answers.

Both make one read-only call, with the integration's credentials, through the guarded client:

- Meta: ``GET /{version}/{phone_number_id}`` with the token answers the number's own ``id``;
- Evolution: ``GET /instance/connectionState/{instance}`` with the ``apikey`` answers the
  instance (connected or not: the key controls it either way);
- Z-API: ``GET /instances/{id}/token/{token}/status`` with the Client-Token answers a status.

The outcome is a category: the caller answers a tenant with it, and a tenant must learn nothing
from a provider's answer (or an internal address's) beyond that category.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx

from contracts.common import Provider
from providers import fields as f
from providers.call import Call
from providers.egress import EgressRefused
from providers.errors import AuthFailed, ProviderFailure, RateLimited, Retryable
from providers.evolution import build as evolution
from providers.http import perform
from providers.meta import build as meta
from providers.zapi import build as zapi

# The credential that names the account, per provider: it must be the integration's account.
ACCOUNT_KEY = {
    Provider.META: "phone_number_id",
    Provider.EVOLUTION: "instance",
    Provider.ZAPI: "instance_id",
}


class Ownership(StrEnum):
    VERIFIED = "verified"
    NOT_VERIFIED = "not_verified"  # the provider did not confirm these credentials
    UNREACHABLE = "unreachable"  # timeout, 5xx, 429: try again later
    REFUSED = "refused"  # the egress policy refused the address


def _call(provider: Provider, credentials: Mapping[str, Any], base_url: str | None) -> Call:
    """Raises KeyError naming a missing credential, ValueError for a missing Evolution server."""
    if provider is Provider.META:
        return meta.health_call(meta.MetaTarget(credentials, base_url))
    if provider is Provider.EVOLUTION:
        return evolution.health_call(evolution.EvolutionTarget(credentials, base_url))
    return zapi.health_call(zapi.ZapiTarget(credentials, base_url))


def confirms(provider: Provider, account: str, status: int, body: bytes) -> bool:
    """Whether a 2xx answer names the account (pure)."""
    if not 200 <= status < 300:
        return False
    data = f.load_object(body)
    if data is None:
        return False
    if provider is Provider.META:
        return f.text(data, "id") == account
    if provider is Provider.EVOLUTION:
        instance = f.obj(data, "instance")
        return bool(instance) and f.text(instance, "instanceName") in (account, None)
    return isinstance(data.get("connected"), bool) and not data.get("error")


async def verify(
    provider: Provider,
    account: str,
    credentials: Mapping[str, Any],
    http: httpx.AsyncClient,
    base_url: str | None,
) -> Ownership:
    """Whether ``credentials`` control ``account`` at the provider (or at ``base_url``)."""
    if str(credentials.get(ACCOUNT_KEY[provider], "")) != account:
        return Ownership.NOT_VERIFIED
    call = _call(provider, credentials, base_url)
    try:
        answer = await perform(http, call)
    except EgressRefused:
        return Ownership.REFUSED
    except Retryable:
        return Ownership.UNREACHABLE
    except ProviderFailure:
        return Ownership.NOT_VERIFIED
    if answer.status == 429 or answer.status >= 500:
        return Ownership.UNREACHABLE
    if confirms(provider, account, answer.status, answer.body):
        return Ownership.VERIFIED
    return Ownership.NOT_VERIFIED


class State(StrEnum):
    OK = "ok"
    NOT_CONNECTED = "not_connected"  # credentials accepted, the WhatsApp session is not open
    AUTH = "auth"  # credentials refused: update them
    RATE_LIMITED = "rate_limited"
    UNREACHABLE = "unreachable"  # timeout, connection error, 5xx
    REFUSED = "refused"  # the egress policy refused the address
    ERROR = "error"  # any other answer


DETAILS = {
    State.OK: "the provider confirmed the account",
    State.NOT_CONNECTED: "the account is not connected to WhatsApp at the provider",
    State.AUTH: "the provider refused the credentials",
    State.RATE_LIMITED: "the provider is rate limiting this account; try again later",
    State.UNREACHABLE: "the provider could not be reached; try again later",
    State.REFUSED: "the integration's address is not one provider calls may go to",
    State.ERROR: "the provider answered with an error",
}


@dataclass(frozen=True)
class Health:
    state: State

    @property
    def ok(self) -> bool:
        return self.state is State.OK

    @property
    def detail(self) -> str:
        return DETAILS[self.state]


def state_of(provider: Provider, account: str, status: int, body: bytes) -> State:
    """The health category of an answer to the probe call (pure)."""
    if status in (401, 403):
        return State.AUTH
    if status == 429:
        return State.RATE_LIMITED
    if status >= 500:
        return State.UNREACHABLE
    if not confirms(provider, account, status, body):
        return State.ERROR
    data = f.load_object(body) or {}
    if provider is Provider.EVOLUTION:
        connected = f.text(f.obj(data, "instance"), "state") == "open"
    elif provider is Provider.ZAPI:
        connected = data.get("connected") is True
    else:
        connected = True
    return State.OK if connected else State.NOT_CONNECTED


async def health(
    provider: Provider,
    credentials: Mapping[str, Any],
    http: httpx.AsyncClient,
    base_url: str | None,
) -> Health:
    """Raises KeyError naming a missing credential."""
    account = str(credentials[ACCOUNT_KEY[provider]])
    call = _call(provider, credentials, base_url)
    try:
        answer = await perform(http, call)
    except EgressRefused:
        return Health(State.REFUSED)
    except RateLimited:
        return Health(State.RATE_LIMITED)
    except Retryable:
        return Health(State.UNREACHABLE)
    except AuthFailed:
        return Health(State.AUTH)
    except ProviderFailure:
        return Health(State.ERROR)
    return Health(state_of(provider, account, answer.status, answer.body))
