"""What media-api's routes depend on: the process's resources and the calling member."""

from dataclasses import dataclass
from typing import Annotated

import asyncpg
from fastapi import Depends, Header, Request

from auth.tokens import Principal, TokenError, Verifier
from db.tenant import tenant_tx
from media import persist
from media.problems import ApiError, unauthorized
from media.settings import MediaSettings
from media.storage import ObjectStore


@dataclass(frozen=True)
class Resources:
    """Created in the lifespan, closed there."""

    settings: MediaSettings
    pool: asyncpg.Pool
    store: ObjectStore
    verifier: Verifier


# ``async def``: FastAPI would run a plain ``def`` dependency in its threadpool.
async def resources(request: Request) -> Resources:
    found: Resources = request.app.state.resources
    return found


Res = Annotated[Resources, Depends(resources)]


async def member(res: Res, authorization: Annotated[str | None, Header()] = None) -> Principal:
    """The caller: a valid bearer token (401 otherwise) of a member of its tenant (403)."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("a bearer token is required")
    try:
        # Off the event loop when the identity provider's key set must be fetched.
        principal = await res.verifier.verify_async(token.strip())
    except TokenError:
        raise unauthorized("the token is invalid or expired") from None
    async with tenant_tx(res.pool, principal.tenant_id) as conn:
        allowed = await persist.is_member(
            conn, tenant_id=principal.tenant_id, user_id=principal.user_id
        )
    if not allowed:
        raise ApiError(403, "not_a_member", "the user is not a member of this tenant")
    return principal


Member = Annotated[Principal, Depends(member)]
