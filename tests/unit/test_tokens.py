import time
from uuid import uuid4

import jwt
import pytest
from pydantic import SecretStr

from auth.tokens import TokenError, Verifier, mint
from config import AuthSettings

SETTINGS = AuthSettings(algorithm="HS256", secret=SecretStr("s" * 32), issuer="iss", audience="aud")


def test_minted_token_verifies_to_its_principal() -> None:
    tenant = uuid4()
    token = mint(SETTINGS, tenant_id=tenant, user_id="u1", role="admin")
    principal = Verifier(SETTINGS).verify(token)
    assert (principal.user_id, principal.tenant_id, principal.role) == ("u1", tenant, "admin")


@pytest.mark.parametrize(
    "claims_override",
    [{"aud": "other"}, {"iss": "other"}, {"exp": int(time.time()) - 3600}],
)
def test_wrong_audience_issuer_or_expired_is_refused(claims_override: dict) -> None:  # type: ignore[type-arg]
    now = int(time.time())
    claims = {
        "sub": "u",
        "tenant_id": str(uuid4()),
        "role": "agent",
        "iss": "iss",
        "aud": "aud",
        "iat": now,
        "exp": now + 60,
        **claims_override,
    }
    token = jwt.encode(claims, "s" * 32, algorithm="HS256")
    with pytest.raises(TokenError):
        Verifier(SETTINGS).verify(token)


def test_alg_none_and_forged_signatures_are_refused() -> None:
    now = int(time.time())
    claims = {
        "sub": "u",
        "tenant_id": str(uuid4()),
        "iss": "iss",
        "aud": "aud",
        "iat": now,
        "exp": now + 60,
    }
    unsigned = jwt.encode(claims, None, algorithm="none")
    forged = jwt.encode(claims, "not-the-secret-" * 3, algorithm="HS256")
    for token in (unsigned, forged, "not.a.token"):
        with pytest.raises(TokenError):
            Verifier(SETTINGS).verify(token)


def _claims(**override: object) -> dict[str, object]:
    now = int(time.time())
    base: dict[str, object] = {
        "sub": "u",
        "tenant_id": str(uuid4()),
        "iss": "iss",
        "aud": "aud",
        "iat": now,
        "exp": now + 600,
    }
    return {**base, **override}


def test_a_token_is_refused_before_its_nbf_and_accepted_from_it() -> None:
    now = int(time.time())
    leeway = SETTINGS.leeway_s
    early = jwt.encode(_claims(nbf=now + leeway + 60), "s" * 32, algorithm="HS256")
    with pytest.raises(TokenError, match="not yet valid"):
        Verifier(SETTINGS).verify(early)
    ready = jwt.encode(_claims(nbf=now - 1), "s" * 32, algorithm="HS256")
    assert Verifier(SETTINGS).verify(ready).user_id == "u"


def test_the_principal_carries_the_tokens_expiry() -> None:
    exp = int(time.time()) + 123
    token = jwt.encode(_claims(exp=exp), "s" * 32, algorithm="HS256")
    assert Verifier(SETTINGS).verify(token).expires_at == exp
