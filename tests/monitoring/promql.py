"""What tests/monitoring reads out of PromQL: every expression of the rules and the dashboard,
and the metrics and labels each one uses, with the parser promtool need not be there for
(promql-parser, the Rust parser Prometheus's grammar was ported to)."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import promql_parser
import yaml

MONITORING = Path(__file__).resolve().parents[2] / "deploy" / "monitoring"
RULES = MONITORING / "alerts.yml"
DASHBOARD = MONITORING / "dashboard.json"

# Grafana's variables in a panel's query, and what they stand for when checked here.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}


@dataclass(frozen=True)
class Query:
    where: str  # "alert X" or "panel Y (A)"
    expr: str


@dataclass(frozen=True)
class Selector:
    metric: str
    labels: frozenset[str]  # the labels its matchers name


def rules() -> list[dict]:  # type: ignore[type-arg]
    return [
        rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]
    ]


def dashboard() -> dict:  # type: ignore[type-arg]
    loaded: dict = json.loads(DASHBOARD.read_text())  # type: ignore[type-arg]
    return loaded


def panels() -> list[dict]:  # type: ignore[type-arg]
    return [p for p in dashboard()["panels"] if p["type"] != "row"]


def queries() -> Iterator[Query]:
    for rule in rules():
        yield Query(f"alert {rule['alert']}", rule["expr"])
    for panel in panels():
        for target in panel["targets"]:
            expr = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            yield Query(f"panel {panel['title']!r} ({target['refId']})", expr)


def parse(expr: str) -> promql_parser.Expr:
    """Raises ``ValueError`` saying what is wrong."""
    return promql_parser.parse(expr)


def selectors(expr: str) -> list[Selector]:
    found: list[Selector] = []

    def visit(node: promql_parser.Expr) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            names = {m.name for m in node.matchers.matchers} - {"__name__"}
            found.append(Selector(node.name, frozenset(names)))

    promql_parser.walk(parse(expr), visit)
    return found


def grouping_labels(expr: str) -> set[str]:
    """Labels named by ``by (...)``, ``without (...)`` and ``on (...)``."""
    found: set[str] = set()

    def visit(node: promql_parser.Expr) -> None:
        modifier = getattr(node, "modifier", None)
        labels = getattr(modifier, "labels", None)
        if labels:
            found.update(labels)
        matching = getattr(modifier, "matching", None)
        if matching is not None and getattr(matching, "labels", None):
            found.update(matching.labels)

    promql_parser.walk(parse(expr), visit)
    return found
