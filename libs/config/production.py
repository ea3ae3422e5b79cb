"""Production mode (``OMNI_ENV=production``): the development defaults a deployment must not
run with, as pure checks of a loaded settings object. ``config.load`` applies them to every
settings class a process loads, so each service refuses to start on the settings it actually
reads, and the error names the variable to fix.
"""

from pydantic_settings import BaseSettings

from config.shared import AuthSettings, CredentialSettings, EgressSettings, S3Settings

MIN_JWT_SECRET_BYTES = 32

# Keys that ship with development setups: this project's defaults and MinIO's.
DEFAULT_S3_KEYS = frozenset({"omni", "omni-secret", "minioadmin"})


def problems(settings: BaseSettings) -> list[str]:
    """What makes ``settings`` unfit for production, one line per variable (empty: fit)."""
    if isinstance(settings, AuthSettings):
        return _auth(settings)
    if isinstance(settings, S3Settings):
        keys = {
            "S3_ACCESS_KEY": settings.access_key.get_secret_value(),
            "S3_SECRET_KEY": settings.secret_key.get_secret_value(),
        }
        return [
            f"  {name}: the development default is not allowed in production"
            for name, value in keys.items()
            if value in DEFAULT_S3_KEYS
        ]
    if isinstance(settings, CredentialSettings):
        fernet = [k for k in settings.credential_keys.get_secret_value().split(",") if k.strip()]
        return [] if fernet else ["  CREDENTIAL_KEYS: no credential key is set"]
    if isinstance(settings, EgressSettings) and settings.allow_http:
        return ["  PROVIDER_ALLOW_HTTP: plain-http provider calls are not allowed in production"]
    return []


def _auth(settings: AuthSettings) -> list[str]:
    if settings.algorithm != "HS256":
        return []
    secret = settings.secret.get_secret_value() if settings.secret is not None else ""
    if len(secret.encode()) < MIN_JWT_SECRET_BYTES:
        return [
            f"  JWT_SECRET: at least {MIN_JWT_SECRET_BYTES} bytes in production "
            f"(has {len(secret.encode())})"
        ]
    return []
