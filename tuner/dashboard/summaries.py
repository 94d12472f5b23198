"""Rows of the experiments list and the summary the experiment page polls, from stored status only.

Both read the status the controller keeps (Katib's counts and `currentOptimalTrial`), never the trials, so
they cost the same for 10 and for 10,000 trials.
"""

from __future__ import annotations

from typing import Any

from tuner.store.records import Experiment
from tuner.views import objective_of

FINISHED_COUNTS = (
    "trialsSucceeded",
    "trialsFailed",
    "trialsKilled",
    "trialsEarlyStopped",
    "trialMetricsUnavailable",
)
RUNNING_STATES = {"Created", "Running", "Restarting"}


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def best_value(record: Experiment) -> tuple[str | None, float | None]:
    """The best trial's name and objective value (by the metric's strategy) from the stored status."""
    status = record.status or {}
    optimal = status.get("currentOptimalTrial") or {}
    objective = objective_of(record)
    for metric in (optimal.get("observation") or {}).get("metrics") or []:
        if metric.get("name") == objective.metric:
            return optimal.get("bestTrialName"), _number(metric.get(objective.strategy.value))
    return optimal.get("bestTrialName"), None


def experiment_row(record: Experiment) -> dict[str, Any]:
    """What the experiments list shows of one experiment."""
    status = record.status or {}
    spec = record.spec.get("spec") or {}
    total = int(status.get("trials") or 0)
    done = sum(int(status.get(key) or 0) for key in FINISHED_COUNTS)
    limit = spec.get("maxTrialCount")
    best_trial, value = best_value(record)
    objective = objective_of(record)
    algorithm = (spec.get("algorithm") or {}).get("algorithmName") or ""
    progress = min(1.0, done / int(limit)) if isinstance(limit, int) and limit > 0 else None
    return {
        "namespace": record.namespace,
        "name": record.name,
        "state": record.state.value,
        "algorithm": algorithm,
        "trials": total,
        "done": done,
        "running": int(status.get("trialsRunning") or 0),
        "maxTrials": limit if isinstance(limit, int) else None,
        "progress": progress,
        "objective": objective.metric,
        "goal": objective.goal.value,
        "bestTrial": best_trial,
        "bestValue": value,
        "created": record.created_at.strftime("%Y-%m-%d %H:%M"),
    }
