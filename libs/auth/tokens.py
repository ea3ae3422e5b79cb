"""Mint and verify agents' JWTs (PyJWT). Pure apart from the JWKS fetch for RS256/ES256."""

import time
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

import jwt

from config.shared import AuthSettings

Role = Literal["agent", "admin"]


class TokenError(Exception):
    """The token is missing, malformed, forged, expired or not meant for us."""


@dataclass(frozen=True)
class Principal:
    user_id: str
    tenant_id: UUID
    role: Role


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
        self._jwks = jwt.PyJWKClient(settings.jwks_url) if settings.jwks_url else None
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
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
            role = claims.get("role", "agent")
            if role not in ("agent", "admin"):
                raise TokenError(f"unknown role {role!r}")
            return Principal(str(claims["sub"]), UUID(str(claims["tenant_id"])), role)
        except (jwt.PyJWTError, KeyError, ValueError) as exc:
            raise TokenError(str(exc) or type(exc).__name__) from None
