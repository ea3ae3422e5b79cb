"""Read a settings class from the environment once, at the door; fail naming the variable.

With ``OMNI_ENV=production`` every loaded class is also checked against the development
defaults a deployment must not keep (``config.production``).
"""

from typing import TypeVar

from pydantic import ValidationError
from pydantic_settings import BaseSettings

from config import production
from config.shared import EnvironmentSettings

S = TypeVar("S", bound=BaseSettings)


class SettingsError(SystemExit):
    """Raised at startup: the process stops with a message that names the variables to fix."""


def _env_name(cls: type[BaseSettings], field: str) -> str:
    prefix = str(cls.model_config.get("env_prefix", ""))
    info = cls.model_fields.get(field)
    alias = info.validation_alias if info is not None else None
    if isinstance(alias, str):
        return alias.upper()
    return f"{prefix}{field}".upper()


def _read(cls: type[S]) -> S:
    try:
        return cls()
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "?"
            problems.append(f"  {_env_name(cls, field)}: {err['msg']}")
        raise SettingsError(
            f"{cls.__name__}: invalid or missing settings\n" + "\n".join(problems)
        ) from None


def load(cls: type[S]) -> S:
    settings = _read(cls)
    if _read(EnvironmentSettings).env == "production":
        found = production.problems(settings)
        if found:
            raise SettingsError(
                f"{cls.__name__}: not allowed with OMNI_ENV=production\n" + "\n".join(found)
            )
    return settings
