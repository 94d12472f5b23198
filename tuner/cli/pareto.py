"""The Pareto front of a multi-objective experiment as `tuner run` and `tuner experiments show` print it.

Read from the experiment's document (`spec.objective.objectives` for the directions, `status.paretoFront`
for the trials), so a local store and a remote server's document print alike. Each objective's column shows
the value its metric strategy picks, as the other tables do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table

FRONT_ROWS = 20
"""Front members printed at most (the rest are counted: `-o yaml` lists them all)."""


def print_pareto_front(document: Mapping[str, Any], console: Console, limit: int = FRONT_ROWS) -> None:
    """A table of the front's trials with every objective and the parameters; nothing for one objective."""
    from tuner.progress import short_value
    from tuner.views import status_value_text

    objective = (document.get("spec") or {}).get("objective") or {}
    objectives = [o for o in objective.get("objectives") or [] if o.get("metricName")]
    front = (document.get("status") or {}).get("paretoFront")
    if len(objectives) < 2 or front is None:
        return
    strategies = {str(s.get("name")): str(s.get("value")) for s in objective.get("metricStrategies") or []}
    labels = []
    for item in objectives:
        arrow = "max" if item.get("type") == "maximize" else "min"
        labels.append((str(item["metricName"]), strategies.get(str(item["metricName"]), arrow), arrow))
    what = ", ".join(f"{name} ({'↑' if arrow == 'max' else '↓'})" for name, _, arrow in labels)
    if not front:
        console.print(f"Pareto front of {what}: no trial with every objective yet", markup=False)
        return
    plural = "s" if len(front) != 1 else ""
    table = Table(title=f"Pareto front of {what}: {len(front)} trial{plural}, by {labels[0][0]}")
    table.add_column("trial")
    for name, strategy, _ in labels:
        table.add_column(f"{name} ({strategy})", justify="right")
    names = [str(p.get("name")) for p in front[0].get("parameterAssignments") or []]
    for name in names:
        table.add_column(name)
    for entry in sorted(front, key=lambda e: _first(e, labels[0]))[:limit]:
        metrics = _metrics(entry)
        values = [status_value_text((metrics.get(n) or {}).get(s)) for n, s, _ in labels]
        params = {str(p.get("name")): str(p.get("value")) for p in entry.get("parameterAssignments") or []}
        table.add_row(
            str(entry.get("trialName")), *values, *[short_value(params.get(n, ""), 6) for n in names]
        )
    console.print(table)
    if len(front) > limit:
        console.print(f"{len(front) - limit} more on the front: `-o yaml` lists them all", markup=False)


def _metrics(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {str(m.get("name")): m for m in (entry.get("observation") or {}).get("metrics") or []}


def _first(entry: Mapping[str, Any], label: tuple[str, str, str]) -> float:
    """The sort key of a front entry: its first objective, best first."""
    name, strategy, arrow = label
    try:
        value = float(str((_metrics(entry).get(name) or {}).get(strategy)))
    except (TypeError, ValueError):
        return float("inf")
    return -value if arrow == "max" else value
