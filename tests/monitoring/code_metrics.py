"""The Prometheus metrics the code defines, found by importing every module of libs/ and
services/ that uses prometheus_client and reading the process registry: the names a query can
use (a counter ``x`` as ``x_total``, a histogram ``h`` as ``h_bucket``, ``h_sum``, ``h_count``)
and the labels each carries."""

import importlib
from functools import cache
from pathlib import Path

from prometheus_client import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "libs", *sorted((ROOT / "services").iterdir())]

_SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_sum", "_count"),
    "summary": ("_sum", "_count", ""),
    "gauge": ("",),
    "info": ("_info",),
}


def _modules() -> list[str]:
    found = []
    for base in SOURCES:
        for path in sorted(base.rglob("*.py")):
            if "prometheus_client" in path.read_text(encoding="utf-8"):
                found.append(".".join(path.relative_to(base).with_suffix("").parts))
    return found


@cache
def defined() -> dict[str, frozenset[str]]:
    """Every sample name a query may use → the labels it carries (``le`` on buckets)."""
    for module in _modules():
        importlib.import_module(module)
    names: dict[str, frozenset[str]] = {}
    for collector in list(REGISTRY._collector_to_names):  # no public listing of collectors
        describe = getattr(collector, "describe", None)
        families = describe() if describe is not None else collector.collect()
        for family in families:
            labels = frozenset(getattr(collector, "_labelnames", ()))
            for suffix in _SUFFIXES.get(family.type, ("",)):
                extra = {"le"} if suffix == "_bucket" else set()
                names[family.name + suffix] = labels | extra
    return names
