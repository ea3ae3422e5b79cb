"""FastAPI dependencies, once: the process resources, the caller's tenant transaction (with
publish-after-commit), the caller, and the admin-only variant. Routes declare what they need
with these ``Annotated`` aliases."""

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Annotated
from uuid import UUID

import asyncpg
import httpx
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from auth.tokens import Verifier
from bus.publisher import Outgoing, Publisher
from contracts import topics
from contracts.envelope import Event
from contracts.realtime import ConversationUpdated, MessageCreated, MessageUpdated
from credentials import Vault
from db import realtime_log
from db.tenant import Connection, tenant_tx
from providers.egress import EgressPolicy
from realtime.access import Caller, member_role, verify_token
from realtime.errors import Forbidden, Unauthorized
from realtime.hub import Hub
from realtime.settings import GatewaySettings

RealtimeChange = MessageCreated | MessageUpdated | ConversationUpdated


@dataclass(frozen=True)
class Resources:
    """Process-wide resources, created and closed in the app's lifespan."""

    settings: GatewaySettings
    pool: asyncpg.Pool
    publisher: Publisher
    verifier: Verifier
    vault: Vault
    http: httpx.AsyncClient  # provider calls: the guarded client (providers.netguard)
    hub: Hub
    egress: EgressPolicy = field(default_factory=EgressPolicy)  # checks saved base URLs too


@dataclass
class Tx:
    """The caller's tenant transaction. Events queued here are published after it commits."""

    conn: Connection
    caller: Caller
    _outbox: list[Outgoing] = field(default_factory=list)
    _recorded: list[RealtimeChange] = field(default_factory=list)  # numbered at commit

    @property
    def tenant_id(self) -> UUID:
        return self.caller.tenant_id

    def publish_after_commit(self, topic: str, event: Event, key: str) -> None:
        self._outbox.append(Outgoing(topic, key, event))

    async def record(self, events: Sequence[RealtimeChange]) -> None:
        """A state change agents must see: logged for replay in this transaction, published
        to the realtime topic (keyed by tenant) after commit."""
        self._recorded += await realtime_log.record(self.conn, self.tenant_id, events)

    async def outgoing(self, pool: asyncpg.Pool) -> list[Outgoing]:
        """After the commit: what to publish, the realtime events with their cursors."""
        stamped = await realtime_log.numbered(pool, self._recorded)
        key = str(self.tenant_id)
        return [*self._outbox, *(Outgoing(topics.REALTIME, key, e) for e in stamped)]


# ``async def``: FastAPI would run a plain ``def`` dependency in its threadpool.
async def get_resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


Deps = Annotated[Resources, Depends(get_resources)]
_bearer = HTTPBearer(auto_error=False, description="JWT issued by the tenant's identity provider")


async def tenant_transaction(
    deps: Deps,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> AsyncIterator[Tx]:
    if credentials is None:
        raise Unauthorized("send Authorization: Bearer <token>")
    principal = await verify_token(deps.verifier, credentials.credentials)
    user_id, tenant_id = principal.user_id, principal.tenant_id
    async with tenant_tx(deps.pool, tenant_id) as conn:
        role = await member_role(conn, user_id)
        tx = Tx(conn, Caller(user_id, tenant_id, role))
        yield tx
    # After commit. If the broker fails here the request fails (5xx) but the change stands:
    # realtime events are in realtime_events for replay, and a queued message's send request
    # is what the dispatcher's stuck-queued sweep (messages_stuck_queued) exists for.
    if tx._outbox or tx._recorded:
        await deps.publisher.publish_many(await tx.outgoing(deps.pool))


# scope="function": commit (and publish) before the response is sent, so a 202 means durable.
TenantTx = Annotated[Tx, Depends(tenant_transaction, scope="function")]


async def current_caller(tx: TenantTx) -> Caller:
    return tx.caller


CurrentCaller = Annotated[Caller, Depends(current_caller)]


async def admin_transaction(tx: TenantTx) -> Tx:
    if tx.caller.role != "admin":
        raise Forbidden("integrations are managed by admins")
    return tx


AdminTx = Annotated[Tx, Depends(admin_transaction)]


async def get_publisher(deps: Deps) -> Publisher:
    return deps.publisher


Broker = Annotated[Publisher, Depends(get_publisher)]
