"""Write the Kubernetes overlay's PrometheusRule from alerts.yml, so the two never differ:
``python deploy/monitoring/prometheusrule.py`` after changing the rules (tests/monitoring fails
while they differ). Needs PyYAML (in the project's dev dependencies)."""

import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
RULES = HERE / "alerts.yml"
TARGET = HERE.parent / "k8s" / "overlays" / "example" / "prometheusrule.yaml"

HEADER = """\
# Generated from deploy/monitoring/alerts.yml by deploy/monitoring/prometheusrule.py: edit those,
# not this. The alert rules for the Prometheus Operator (monitoring.coreos.com/v1); its
# ruleSelector must match the labels below (kube-prometheus-stack's default wants `release`).
# Runbooks: deploy/README.md, "Alerts".
"""


def prometheus_rule(rules: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": "omni-alerts",
            "labels": {"app.kubernetes.io/part-of": "omni", "release": "prometheus"},
        },
        "spec": {"groups": rules["groups"]},
    }


class _Dumper(yaml.SafeDumper):
    """Multi-line expressions stay block literals, as written in alerts.yml."""


def _str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _str)


def render() -> str:
    rules = yaml.safe_load(RULES.read_text())
    body = yaml.dump(
        prometheus_rule(rules), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120
    )
    return HEADER + body


def main() -> int:
    TARGET.write_text(render())
    sys.stderr.write(f"wrote {TARGET.relative_to(HERE.parents[1])}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
