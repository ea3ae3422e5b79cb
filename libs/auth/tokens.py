"""Mint and verify agents' JWTs (PyJWT). Pure apart from the JWKS fetch for RS256/ES256.

``verify`` may block on that fetch (PyJWKClient is synchronous: the key set is fetched when
the cache is empty or expired, or once per cooldown for an unknown ``kid``); code on an event
loop calls ``verify_async``, which then runs it in a thread.
"""

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

import jwt

from config.shared import AuthSettings

Role = Literal["agent", "admin"]
JWKS_TIMEOUT_S = 5.0  # an identity provider that hangs fails the token, not the process


class TokenError(Exception):
    """The token is missing, malformed, forged, expired or not meant for us."""


@dataclass(frozen=True)
class Principal:
    user_id: str
    tenant_id: UUID
    role: Role
    expires_at: float = float("inf")  # the token's ``exp`` (Unix seconds)


def mint(
    settings: AuthSettings, *, tenant_id: UUID, user_id: str, role: Role, ttl_s: int = 3600
) -> str:
    """A development token signed with the HS256 shared secret (what ``omni token`` prints)."""
    if settings.algorithm != "HS256" or settings.secret is None:
        raise TokenError("minting needs JWT_ALGORITHM=HS256 and JWT_SECRET")
    now = int(time.time())
    claims = {
        "sub": user_id,
        "tenant_id": str(tenant_id),
        "role": role,
        "iss": settings.issuer,
        "aud": settings.audience,
        "iat": now,
        "nbf": now,
        "exp": now + ttl_s,
    }
    return jwt.encode(claims, settings.secret.get_secret_value(), algorithm="HS256")


class Verifier:
    def __init__(self, settings: AuthSettings) -> None:
        self._settings = settings
        url = settings.jwks_url
        self._jwks = jwt.PyJWKClient(url, timeout=JWKS_TIMEOUT_S) if url else None
        if settings.algorithm == "HS256" and settings.secret is None:
            raise TokenError("JWT_SECRET is required with JWT_ALGORITHM=HS256")
        if settings.algorithm != "HS256" and self._jwks is None:
            raise TokenError(f"JWT_JWKS_URL is required with JWT_ALGORITHM={settings.algorithm}")

    def _key(self, token: str) -> Any:
        if self._jwks is not None:
            return self._jwks.get_signing_key_from_jwt(token).key
        assert self._settings.secret is not None
        return self._settings.secret.get_secret_value()

    def verify(self, token: str) -> Principal:
        s = self._settings
        try:
            claims = jwt.decode(
                token,
                self._key(token),
                algorithms=[s.algorithm],  # pinned: "none" and algorithm confusion are refused
                audience=s.audience,
                issuer=s.issuer,
                leeway=s.leeway_s,
                # Spelled out so no default can turn them off: a token is good from its
                # ``nbf`` (when it has one; refused before it, beyond the leeway) to its ``exp``.
                options={
                    "require": ["exp", "iat", "sub", "aud", "iss"],
                    "verify_signature": True,
                    "verify_exp": True,
                    "verify_nbf": True,
                    "verify_iat": True,
                    "verify_aud": True,
                    "verify_iss": True,
                },
            )
            role = claims.get("role", "agent")
            if role not in ("agent", "admin"):
                raise TokenError(f"unknown role {role!r}")
            return Principal(
                str(claims["sub"]),
                UUID(str(claims["tenant_id"])),
                role,
                expires_at=float(claims["exp"]),
            )
        except (jwt.PyJWTError, KeyError, ValueError, TypeError) as exc:
            raise TokenError(str(exc) or type(exc).__name__) from None

    async def verify_async(self, token: str) -> Principal:
        """``verify`` without blocking the event loop: in a thread when a JWKS fetch may be
        needed, inline for HS256 (pure CPU, microseconds)."""
        if self._jwks is None:
            return self.verify(token)
        return await asyncio.to_thread(self.verify, token)
