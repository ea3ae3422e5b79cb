"""Every long-running process of the system, by the name deployments and ``omni run`` use.

Each value is ``module:function``; the function takes no arguments, reads its settings from
the environment and runs until SIGTERM. Imported lazily so one service's dependencies never
load in another's process.
"""

import importlib
from collections.abc import Callable

ENTRYPOINTS: dict[str, str] = {
    # Filled in as services land, e.g. "ingest-api": "ingest.__main__:api".
    "simulator": "simulator.__main__:main",
    "ingest-api": "ingest.__main__:api",
    "ingest-worker": "ingest.__main__:worker",
}


def resolve(name: str) -> Callable[[], None]:
    try:
        target = ENTRYPOINTS[name]
    except KeyError:
        known = ", ".join(sorted(ENTRYPOINTS)) or "none yet"
        raise SystemExit(f"unknown entry point {name!r} (known: {known})") from None
    module, _, func = target.partition(":")
    fn: Callable[[], None] = getattr(importlib.import_module(module), func)
    return fn
