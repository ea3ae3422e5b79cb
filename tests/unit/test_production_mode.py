"""OMNI_ENV=production: a service refuses to start on development defaults, naming the
variable; the same settings start fine in development, and good ones in production."""

import os
import secrets
import subprocess
import sys

import pytest

from config import (
    AuthSettings,
    CredentialSettings,
    EgressSettings,
    S3Settings,
    SettingsError,
    load,
)
from credentials import new_key

# Enough for the gateway and media-worker to read every setting they need; nothing here is
# ever connected to, because the settings are refused first.
GOOD = {
    "OMNI_ENV": "production",
    "APP_DATABASE_URL": "postgresql://omni_app:pw@127.0.0.1:9/omni",
    "KAFKA_BOOTSTRAP": "127.0.0.1:9",
    "JWT_ALGORITHM": "HS256",
    "JWT_SECRET": secrets.token_urlsafe(32),
    "CREDENTIAL_KEYS": new_key(),
    "S3_ACCESS_KEY": "AKIA" + secrets.token_hex(8),
    "S3_SECRET_KEY": secrets.token_urlsafe(30),
    "PROVIDER_ALLOW_HTTP": "false",
}


def _env(**changes: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("JWT_", "S3_", "PROVIDER_"))}
    return {**base, **GOOD, **changes}


@pytest.mark.parametrize(
    ("service", "changes", "variable"),
    [
        ("gateway", {"JWT_SECRET": "dev-secret"}, "JWT_SECRET"),
        ("gateway", {"CREDENTIAL_KEYS": " , "}, "CREDENTIAL_KEYS"),
        ("gateway", {"PROVIDER_ALLOW_HTTP": "true"}, "PROVIDER_ALLOW_HTTP"),
        ("media-worker", {"S3_ACCESS_KEY": "omni"}, "S3_ACCESS_KEY"),
        ("media-worker", {"S3_SECRET_KEY": "omni-secret"}, "S3_SECRET_KEY"),
    ],
)
def test_a_service_refuses_to_start_on_development_defaults(
    service: str, changes: dict[str, str], variable: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "omnicli", "run", service],
        env=_env(**changes),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert variable in done.stderr
    assert "OMNI_ENV=production" in done.stderr


def test_unset_s3_keys_are_the_defaults_and_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNI_ENV", "production")
    monkeypatch.delenv("S3_ACCESS_KEY", raising=False)
    monkeypatch.delenv("S3_SECRET_KEY", raising=False)
    with pytest.raises(SettingsError, match="S3_ACCESS_KEY") as refused:
        load(S3Settings)
    assert "S3_SECRET_KEY" in str(refused.value)


def test_production_settings_pass_and_development_keeps_its_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in _env().items():
        monkeypatch.setenv(key, value)
    assert load(AuthSettings).secret is not None
    load(S3Settings)
    load(CredentialSettings)
    assert load(EgressSettings).allow_http is False

    monkeypatch.setenv("OMNI_ENV", "development")
    monkeypatch.setenv("JWT_SECRET", "short")
    monkeypatch.setenv("PROVIDER_ALLOW_HTTP", "true")
    monkeypatch.delenv("S3_ACCESS_KEY")
    assert load(AuthSettings).secret is not None
    assert load(S3Settings).access_key.get_secret_value() == "omni"
    assert load(EgressSettings).allow_http is True


def test_an_asymmetric_jwt_setup_needs_no_shared_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNI_ENV", "production")
    monkeypatch.setenv("JWT_ALGORITHM", "RS256")
    monkeypatch.setenv("JWT_JWKS_URL", "https://auth.example.com/.well-known/jwks.json")
    monkeypatch.delenv("JWT_SECRET", raising=False)
    load(AuthSettings)


def test_an_unknown_environment_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNI_ENV", "prod")
    with pytest.raises(SettingsError, match="OMNI_ENV"):
        load(AuthSettings)
