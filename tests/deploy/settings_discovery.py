"""Which environment variables each deployed process must be given, found at test time.

Every module under libs/ and services/ that mentions ``BaseSettings`` is imported and every
pydantic-settings class defined there is read: a field without a default is a variable the
process refuses to start without (``config.load``). So the check follows the services as they
land, without a list to keep in step.

Who reads which class (the imports say, but not in a form a test can follow cheaply):
- ``services/<svc>/...``: the entry points of that service (``SERVICE_PROCESSES``), or only
  the one its class name points at when the service has several (``MediaWorkerSettings`` or
  ``WorkerSettings`` in services/media: media-worker only);
- ``libs/omnicli/settings.py``: the owner commands (the ``migrate`` job);
- ``libs/devstack``: the development launcher only, never deployed;
- ``libs/simulator``: the simulator;
- the ``topics`` job reads ``KafkaSettings`` only, the ``lag-exporter`` that and its own;
- any other class in libs/ (``config.shared`` and what comes after it): every service.
"""

import importlib
from dataclasses import dataclass

from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from tests.deploy.manifests import ROOT

SERVICE_PROCESSES: dict[str, tuple[str, ...]] = {
    "ingest": ("ingest-api", "ingest-worker"),
    "dispatcher": ("dispatcher",),
    "media": ("media-worker", "media-api"),
    "realtime": ("gateway",),
}
SERVICES = tuple(p for ps in SERVICE_PROCESSES.values() for p in ps)
# Processes that read only the shared classes named (the lag-exporter: the broker, its own).
JOB_CLASSES = {"topics": ("KafkaSettings",), "lag-exporter": ("KafkaSettings", "LagSettings")}


@dataclass(frozen=True)
class Requirement:
    settings: str  # module.Class
    field: str
    names: tuple[str, ...]  # any one of these variables satisfies it

    def met_by(self, env: frozenset[str]) -> bool:
        upper = {name.upper() for name in env}
        return any(name.upper() in upper for name in self.names)


def _module_names() -> list[str]:
    roots = [ROOT / "libs", *(p for p in (ROOT / "services").glob("*") if p.is_dir())]
    names = []
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            rel = path.relative_to(root)
            if "migrations" in rel.parts or "tests" in rel.parts:
                continue
            if "BaseSettings" not in path.read_text():
                continue
            parts = list(rel.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            names.append(".".join(parts))
    return names


def settings_classes() -> list[type[BaseSettings]]:
    modules = set(_module_names())
    for name in sorted(modules):
        importlib.import_module(name)
    found: list[type[BaseSettings]] = []
    pending = list(BaseSettings.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__ in modules and cls not in found:
            found.append(cls)
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}")


def requirements(cls: type[BaseSettings]) -> list[Requirement]:
    prefix = str(cls.model_config.get("env_prefix", ""))
    out = []
    for field, info in cls.model_fields.items():
        if not info.is_required():
            continue
        alias = info.validation_alias
        if isinstance(alias, str):
            names: tuple[str, ...] = (alias,)
        elif isinstance(alias, AliasChoices):
            names = tuple(str(c) for c in alias.choices if isinstance(c, str))
        else:
            names = (f"{prefix}{field}",)
        names = tuple(name.upper() for name in names)
        out.append(Requirement(f"{cls.__module__}.{cls.__qualname__}", field, names))
    return out


def processes_reading(cls: type[BaseSettings]) -> tuple[str, ...]:
    """Process keys (entry point names, or CLI commands for jobs) that load ``cls``."""
    top = cls.__module__.split(".")[0]
    jobs = tuple(job for job, names in JOB_CLASSES.items() if cls.__name__ in names)
    if top in SERVICE_PROCESSES:
        return _named_process(cls.__name__, SERVICE_PROCESSES[top])
    if cls.__module__ == "omnicli.settings":
        return ("migrate",)
    if top == "devstack":
        return ()
    if top == "simulator":
        return ("simulator",)
    return SERVICES + jobs


def _named_process(class_name: str, processes: tuple[str, ...]) -> tuple[str, ...]:
    stem = class_name.lower().removesuffix("settings")
    named = tuple(p for p in processes if stem and p.replace("-", "").endswith(stem))
    return named if len(named) == 1 else processes


def required_by_process() -> dict[str, list[Requirement]]:
    needs: dict[str, list[Requirement]] = {}
    for cls in settings_classes():
        for key in processes_reading(cls):
            needs.setdefault(key, []).extend(requirements(cls))
    return needs


def missing(env: frozenset[str], needs: list[Requirement]) -> list[Requirement]:
    return [req for req in needs if not req.met_by(env)]
