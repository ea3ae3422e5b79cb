"""Which integration a webhook belongs to, and the secrets to authenticate it with.

Lookups go through the SECURITY DEFINER route functions (no tenant is known yet); credentials
are then decrypted inside a tenant transaction. Results, including "no such key", are cached for
``ttl_s`` so a flood of webhooks costs no database round trips, and a disabled integration stops
being accepted within that time while the database answers.

The database is needed only to route, and Kafka exists to buffer webhooks while the rest of the
system is away: so when the database does not answer a refresh (refused, reset, or slower than
``load_timeout_s``), a route seen before is served from its expired entry, and the database is
asked again ``retry_s`` later; a revoked integration is refused again as soon as a refresh
succeeds. Only a route never seen fails, with ``DatabaseUnavailable`` (503, the provider
retries), never a 500.
"""

import asyncio
import time
from dataclasses import dataclass
from functools import cached_property
from uuid import UUID

import asyncpg
import structlog

from contracts import Provider
from credentials import Vault
from db.tenant import tenant_tx
from ingest.errors import DatabaseUnavailable
from providers.base import WebhookSecrets
from providers.registry import webhook_secrets


@dataclass(frozen=True)
class Route:
    integration_id: UUID
    tenant_id: UUID
    provider: Provider
    account: str
    active: bool
    secrets: WebhookSecrets
    # The integration's policy for group chats' messages: "ignore" (default) or "store".
    group_messages: str = "ignore"

    @cached_property
    def stream(self) -> str:
        """ "tenant:integration", the prefix of every conversation key of this integration
        (made once per cached route rather than per webhook)."""
        return f"{self.tenant_id}:{self.integration_id}"


MAX_ENTRIES = 10_000
# What a database that is away looks like from here (a hang shows up as the load timeout).
UNREACHABLE = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.TooManyConnectionsError,
    asyncpg.CannotConnectNowError,
)

log = structlog.get_logger(__name__)


class RouteCache:
    def __init__(
        self,
        pool: asyncpg.Pool,
        vault: Vault,
        ttl_s: float,
        *,
        load_timeout_s: float = 2.0,
        retry_s: float = 2.0,
    ) -> None:
        self._pool = pool
        self._vault = vault
        self._ttl_s = ttl_s
        self._load_timeout_s = load_timeout_s
        self._retry_s = retry_s
        self._entries: dict[tuple[str, ...], tuple[float, Route | None]] = {}
        self._loading: dict[tuple[str, ...], asyncio.Future[Route | None]] = {}

    async def by_key(self, webhook_key: str) -> Route | None:
        return await self._cached(
            ("key", webhook_key), "SELECT * FROM route_by_webhook_key($1)", webhook_key
        )

    async def by_account(self, provider: Provider, account: str) -> Route | None:
        return await self._cached(
            ("account", provider.value, account),
            "SELECT * FROM route_by_account($1, $2)",
            provider.value,
            account,
        )

    async def _cached(self, key: tuple[str, ...], sql: str, *args: str) -> Route | None:
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        # One load per key at a time: when an entry expires under load, the webhooks arriving
        # meanwhile wait for that load instead of each querying and decrypting again.
        loading = self._loading.get(key)
        if loading is None:
            loading = asyncio.ensure_future(self._fill(key, now, sql, *args))
            self._loading[key] = loading
            loading.add_done_callback(lambda done: self._settled(key, done))
        elif hit is not None:
            return hit[1]  # a refresh is under way (maybe stuck): the last answer meanwhile
        try:
            return await asyncio.wait_for(asyncio.shield(loading), self._load_timeout_s)
        except UNREACHABLE as exc:
            if hit is None:
                raise DatabaseUnavailable(
                    "cannot look the integration up now; retry later"
                ) from exc
            return hit[1]

    def _settled(self, key: tuple[str, ...], done: asyncio.Future[Route | None]) -> None:
        self._loading.pop(key, None)
        if done.cancelled() or done.exception() is None:
            return
        log.warning("integration lookup failed", error=repr(done.exception()))
        hit = self._entries.get(key)
        if hit is not None:  # keep serving it, and ask the database again a little later
            self._entries[key] = (time.monotonic() + self._retry_s, hit[1])

    async def _fill(self, key: tuple[str, ...], now: float, sql: str, *args: str) -> Route | None:
        route = await self._load(sql, *args)
        if len(self._entries) >= MAX_ENTRIES:  # bounded: drop the oldest insertions
            for stale in list(self._entries)[: MAX_ENTRIES // 10]:
                del self._entries[stale]
        self._entries[key] = (now + self._ttl_s, route)
        return route

    async def _load(self, sql: str, *args: str) -> Route | None:
        row = await self._pool.fetchrow(sql, *args)
        if row is None:
            return None
        async with tenant_tx(self._pool, row["tenant_id"]) as conn:
            stored = await conn.fetchrow(
                "SELECT credentials, verify_token, group_messages FROM integrations WHERE id = $1",
                row["integration_id"],
            )
        if stored is None:
            return None
        provider = Provider(row["provider"])
        credentials = self._vault.open(stored["credentials"])
        return Route(
            integration_id=row["integration_id"],
            tenant_id=row["tenant_id"],
            provider=provider,
            account=row["external_account_id"],
            active=row["status"] != "disabled",
            secrets=webhook_secrets(provider, credentials, stored["verify_token"]),
            group_messages=stored["group_messages"],
        )
