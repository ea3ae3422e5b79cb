"""Who is calling: a verified token whose subject is a member of the token's tenant.

Membership (and the role that counts) is read inside a tenant transaction, so row-level
security decides what exists. Shared by the REST dependencies and the websocket pump.
"""

from dataclasses import dataclass
from uuid import UUID

from auth.tokens import Principal, TokenError, Verifier
from db.tenant import Connection
from realtime.errors import Unauthorized


@dataclass(frozen=True)
class Caller:
    user_id: str
    tenant_id: UUID
    role: str  # from tenant_members, not from the token


async def verify_token(verifier: Verifier, token: str) -> Principal:
    """The token's principal (user, tenant, expiry). A JWKS lookup runs in a thread."""
    try:
        return await verifier.verify_async(token)
    except TokenError as exc:
        raise Unauthorized(f"token rejected: {exc}") from None


async def member_role(conn: Connection, user_id: str) -> str:
    role = await conn.fetchval("SELECT role FROM tenant_members WHERE user_id = $1", user_id)
    if role is None:
        raise Unauthorized("not a member of this tenant")
    return str(role)
