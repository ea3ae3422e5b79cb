"""What the send pipeline needs from the process, created once in ``__main__`` and passed down."""

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import asyncpg
import httpx

from bus.publisher import Publisher
from contracts import Provider
from credentials import Vault
from dispatcher.calls import ProviderCalls
from providers.base import OutboundMediaSource, ProviderClient


class ClientFactory(Protocol):
    """``providers.registry.client``: a client for one integration."""

    def __call__(
        self,
        provider: Provider | str,
        credentials: Mapping[str, Any],
        http: httpx.AsyncClient,
        *,
        base_url: str | None = None,
    ) -> ProviderClient: ...


class MediaSources(Protocol):
    async def source(self, media_key: str, mime: str | None = None) -> OutboundMediaSource: ...


@dataclass(frozen=True)
class Deps:
    pool: asyncpg.Pool
    vault: Vault
    http: httpx.AsyncClient
    publisher: Publisher
    calls: ProviderCalls
    media: MediaSources
    client_for: ClientFactory
    group_id: str
    default_rate_per_s: float | None = None
    # A claim younger than this may have its call in flight; older, its outcome is unknown.
    unknown_after_s: float = 300.0
    # Set when the process stops: every wait of a send ends (backoff.pause).
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    # How long recording an outcome is retried over a database blip (DISPATCHER_RECORD_RETRY_S).
    record_retry_s: float = 30.0
