"""The Grafana dashboard (deploy/monitoring/dashboard.json) drawn with matplotlib from the
answers of a real Prometheus to the dashboard's own queries: the README's screenshot without a
Grafana. Pure over its inputs: panels and series in, a PNG out."""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DASHBOARD = Path(__file__).resolve().parents[1] / "deploy" / "monitoring" / "dashboard.json"

# Grafana's look, near enough: dark panels, its classic palette.
_BACKGROUND, _PANEL, _TEXT, _GRID = "#111217", "#181b1f", "#ccccdc", "#2c3235"
_COLOURS = ["#73bf69", "#f2cc0c", "#8ab8ff", "#ff780a", "#f2495c", "#5794f2", "#b877d9", "#fade2a"]


@dataclass(frozen=True)
class Target:
    expr: str
    legend: str


@dataclass(frozen=True)
class Panel:
    title: str
    unit: str
    row: str
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class Series:
    name: str
    points: tuple[tuple[float, float], ...]  # (seconds since the start, value)


def panels(dashboard: dict[str, Any] | None = None) -> list[Panel]:
    """The dashboard's panels in order, each with the row it sits under."""
    data = dashboard if dashboard is not None else json.loads(DASHBOARD.read_text())
    found, row = [], ""
    for panel in data["panels"]:
        if panel["type"] == "row":
            row = panel["title"]
            continue
        targets = tuple(Target(t["expr"], t.get("legendFormat", "")) for t in panel["targets"])
        found.append(Panel(panel["title"], panel["fieldConfig"]["defaults"]["unit"], row, targets))
    return found


def legend(template: str, labels: dict[str, str]) -> str:
    """Grafana's ``{{label}}`` legend format filled from a series' labels.

    >>> legend("{{topic}} {{reason}}", {"topic": "omni.inbound", "reason": "rejected"})
    'omni.inbound rejected'
    """
    text = template
    for key, value in labels.items():
        text = text.replace("{{" + key + "}}", value)
    return text or ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) or "value"


def draw(
    grid: list[tuple[Panel, list[Series]]], out: Path, *, title: str, columns: int = 3
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = -(-len(grid) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(6.2 * columns, 3.1 * rows), squeeze=False)
    figure.patch.set_facecolor(_BACKGROUND)
    figure.suptitle(title, color=_TEXT, fontsize=15, x=0.01, ha="left")
    for index, ax in enumerate(axes.flat):
        if index >= len(grid):
            ax.set_visible(False)
            continue
        panel, series = grid[index]
        ax.set_facecolor(_PANEL)
        ax.set_title(panel.title, color=_TEXT, fontsize=10, loc="left")
        ax.tick_params(colors=_TEXT, labelsize=8)
        for spine in ax.spines.values():
            spine.set_color(_GRID)
        ax.grid(color=_GRID, linewidth=0.6)
        ax.set_xlabel("seconds", color=_TEXT, fontsize=8)
        ax.set_ylabel(panel.unit, color=_TEXT, fontsize=8)
        for n, one in enumerate(series):
            xs = [x for x, _ in one.points]
            ys = [y for _, y in one.points]
            ax.plot(xs, ys, color=_COLOURS[n % len(_COLOURS)], linewidth=1.4, label=one.name)
        if series:
            ax.set_ylim(bottom=0)
            ax.legend(
                fontsize=7, facecolor=_PANEL, edgecolor=_GRID, labelcolor=_TEXT, loc="upper left"
            )
        else:
            ax.text(
                0.5, 0.5, "no data", color=_TEXT, ha="center", va="center", transform=ax.transAxes
            )
    figure.tight_layout(rect=(0, 0, 1, 0.97))
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=80, facecolor=_BACKGROUND)
    plt.close(figure)
