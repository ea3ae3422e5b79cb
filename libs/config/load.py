"""Read a settings class from the environment once, at the door; fail naming the variable."""

from typing import TypeVar

from pydantic import ValidationError
from pydantic_settings import BaseSettings

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


def load(cls: type[S]) -> S:
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
