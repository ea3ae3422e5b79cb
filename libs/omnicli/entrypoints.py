"""Every long-running process of the system, by the name deployments and ``omni run`` use.

Each value is ``module:function``; the function takes no arguments, reads its settings from
the environment and runs until SIGTERM. Imported lazily so one service's dependencies never
load in another's process.
"""

import importlib
from collections.abc import Callable

ENTRYPOINTS: dict[str, str] = {
    "ingest-api": "ingest.__main__:api",
    "ingest-worker": "ingest.__main__:worker",
    "dispatcher": "dispatcher.__main__:main",
    "media-worker": "media.__main__:worker",
    "media-api": "media.__main__:api",
    "gateway": "realtime.__main__:main",
    "lag-exporter": "bus.lag_exporter:main",
    "simulator": "simulator.__main__:main",
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
