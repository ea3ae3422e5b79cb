"""An integration as the dispatcher uses it: its row, its credentials decrypted only in memory,
its provider client and its rate."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from contracts import Provider
from dispatcher.deps import Deps
from dispatcher.failures import Failed, integration_unavailable
from dispatcher.ratelimit import rate_for
from providers.base import ProviderClient


@dataclass(frozen=True)
class Ready:
    id: UUID
    provider: Provider
    client: ProviderClient
    rate_per_s: float


def open_integration(deps: Deps, row: asyncpg.Record | Mapping[str, Any] | None) -> Ready | Failed:
    """A client for ``row``, or why the integration cannot send (missing, disabled, flagged,
    credentials incomplete). The decrypted credentials live only inside the client."""
    if row is None:
        return integration_unavailable("missing", "it was deleted")
    if row["status"] != "active":
        return integration_unavailable(row["status"], row["status_reason"])
    provider = Provider(row["provider"])
    try:
        client = deps.client_for(
            provider,
            deps.vault.open(row["credentials"]),
            deps.http,
            base_url=row["api_base_url"],
        )
    except (KeyError, ValueError) as exc:
        # Name the missing field, never its value.
        return integration_unavailable("misconfigured", f"credentials incomplete ({exc})")
    rate = rate_for(provider, row["rate_limit_per_s"], deps.default_rate_per_s)
    return Ready(row["id"], provider, client, rate)
