"""deploy/monitoring is checked offline: every alert rule and dashboard query parses, names only
metrics and labels the code defines, every alert has a runbook, the Kubernetes overlay carries
the same rules; and, where Debian's promtool is installed (`apt-get install prometheus`), the
rules pass `promtool check rules` and their unit tests (alerts.test.yml)."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.monitoring import code_metrics, promql

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_README = ROOT / "deploy" / "README.md"
PROMETHEUS_RULE = ROOT / "deploy" / "k8s" / "overlays" / "example" / "prometheusrule.yaml"
# Added by Prometheus to every scraped sample (the target), not by the code.
TARGET_LABELS = {"instance", "job"}
# Labels whose values grow with traffic or customers: never on a metric.
UNBOUNDED = re.compile(r"tenant|message|conversation|contact|user|integration_id|event_id")

QUERIES = list(promql.queries())


def test_the_rules_and_the_dashboard_have_queries() -> None:
    alerts = {rule["alert"] for rule in promql.rules()}
    assert len(alerts) == len(promql.rules()) >= 8, "alert names are not unique"
    assert len(promql.panels()) >= 10


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.where)
def test_every_query_parses(query: promql.Query) -> None:
    promql.parse(query.expr)


def test_a_broken_query_is_refused() -> None:
    with pytest.raises(ValueError, match="parenthesis"):
        promql.parse("sum(rate(deadletters_total[5m])")


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.where)
def test_every_query_uses_metrics_and_labels_the_code_defines(query: promql.Query) -> None:
    defined = code_metrics.defined()
    used_labels: set[str] = set()
    for selector in promql.selectors(query.expr):
        assert selector.metric in defined, f"{query.where}: no metric {selector.metric!r}"
        unknown = selector.labels - defined[selector.metric] - TARGET_LABELS
        assert not unknown, f"{query.where}: {selector.metric} has no label {sorted(unknown)}"
        used_labels |= defined[selector.metric]
    grouping = promql.grouping_labels(query.expr) - used_labels - TARGET_LABELS
    assert not grouping, f"{query.where}: groups by labels no metric has: {sorted(grouping)}"


def test_no_metric_carries_an_unbounded_label() -> None:
    for name, labels in code_metrics.defined().items():
        assert not [label for label in labels if UNBOUNDED.search(label)], name


def test_every_alert_has_a_runbook_paragraph_in_the_deploy_readme() -> None:
    readme = DEPLOY_README.read_text()
    for rule in promql.rules():
        name = rule["alert"]
        assert rule["annotations"]["runbook"] == f"deploy/README.md#{name.lower()}", name
        assert re.search(rf"^#+ {name}$", readme, re.MULTILINE), f"no runbook heading {name}"
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, name


def test_the_dashboard_is_ready_to_provision() -> None:
    dashboard = promql.dashboard()
    assert dashboard["uid"] and dashboard["title"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    for panel in promql.panels():
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]


def test_the_kubernetes_overlay_carries_the_same_rules() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "prometheusrule", ROOT / "deploy" / "monitoring" / "prometheusrule.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert PROMETHEUS_RULE.read_text() == module.render(), (
        "the overlay's PrometheusRule differs from alerts.yml: "
        "run python deploy/monitoring/prometheusrule.py"
    )


PROMTOOL = shutil.which("promtool")
NO_PROMTOOL = (
    "promtool not installed (apt-get install prometheus): rules checked by the parser only"
)


@pytest.mark.skipif(PROMTOOL is None, reason=NO_PROMTOOL)
def test_promtool_checks_the_rules() -> None:
    assert PROMTOOL is not None
    done = subprocess.run(
        [PROMTOOL, "check", "rules", str(promql.RULES)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.skipif(PROMTOOL is None, reason=NO_PROMTOOL)
def test_the_alerts_fire_as_their_unit_tests_expect() -> None:
    assert PROMTOOL is not None
    done = subprocess.run(
        [PROMTOOL, "test", "rules", "alerts.test.yml"],
        capture_output=True,
        text=True,
        cwd=promql.MONITORING,
    )
    assert done.returncode == 0, done.stdout + done.stderr
