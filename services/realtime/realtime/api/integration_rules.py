"""What an integration must satisfy before it is saved: a base URL provider calls may go to,
credentials that name the integration's own account, and proof from the provider that those
credentials control it.

The proof comes before any uniqueness check, so the answer to credentials that do not verify is
the same whether or not the account is connected by some other tenant: nobody learns from it
that a number is in use elsewhere, and nobody can take over another tenant's number (and its
webhooks) without that number's credentials.
"""

from typing import Any

import httpx

from contracts.common import Provider
from providers import probe
from providers.egress import EgressPolicy, check_base_url
from realtime.errors import Unavailable, Unprocessable

NOT_VERIFIED = "could not verify this account with these credentials"


def base_url(value: str | None, provider: Provider, policy: EgressPolicy) -> str | None:
    """The normalized ``api_base_url`` (Unprocessable saying what is wrong)."""
    if value is None:
        if provider is Provider.EVOLUTION:
            raise Unprocessable(
                "Evolution is self-hosted: api_base_url (your server) is required",
                code="invalid_api_base_url",
            )
        return None
    try:
        return check_base_url(value, policy)
    except ValueError as exc:
        raise Unprocessable(f"api_base_url: {exc}", code="invalid_api_base_url") from None


def credentials(provider: Provider, account: str, given: dict[str, Any]) -> dict[str, Any]:
    """The credentials with the account they are for filled in; they must not name another one,
    nor carry a server address of their own (the server is ``api_base_url``, checked above)."""
    if "base_url" in given:
        raise Unprocessable(
            "give the provider's server as api_base_url, not inside the credentials",
            code="invalid_credentials",
        )
    key = probe.ACCOUNT_KEY[provider]
    named = given.get(key)
    if named is not None and str(named) != account:
        raise Unprocessable(
            f"credentials.{key} names another account than external_account_id",
            code="invalid_credentials",
        )
    return {**given, key: account}


async def prove_ownership(
    provider: Provider,
    account: str,
    creds: dict[str, Any],
    http: httpx.AsyncClient,
    api_base_url: str | None,
) -> None:
    """Returns when the provider confirms ``creds`` control ``account``; raises otherwise."""
    try:
        outcome = await probe.verify(provider, account, creds, http, api_base_url)
    except (KeyError, ValueError) as exc:
        raise Unprocessable(
            f"the credentials lack {exc.args[0]!r}", code="credentials_incomplete"
        ) from None
    if outcome is probe.Ownership.VERIFIED:
        return
    if outcome is probe.Ownership.UNREACHABLE:
        raise Unavailable(
            "the provider could not be reached to verify the account; try again",
            code="provider_unreachable",
        )
    if outcome is probe.Ownership.REFUSED:
        raise Unprocessable(
            "api_base_url: not an address provider calls may go to",
            code="invalid_api_base_url",
        )
    raise Unprocessable(NOT_VERIFIED, code="account_not_verified")
