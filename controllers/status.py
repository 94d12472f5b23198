"""Katib's Experiment status, computed from the trials: counters, name lists, optimal trial, conditions.

Pure functions: the reconciler hands in what it read from the store and writes back the document only when
it changed, so `tuner run -o yaml` and `kubectl get experiment -o yaml` (through the operator) look alike.
Metric values are strings, as in Katib's `Metric` type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from tuner.states import ExperimentReason, ExperimentState, TrialState

_LISTS = {
    TrialState.CREATED: ("pendingTrialList", "trialsPending"),
    TrialState.RUNNING: ("runningTrialList", "trialsRunning"),
    TrialState.SUCCEEDED: ("succeededTrialList", "trialsSucceeded"),
    TrialState.FAILED: ("failedTrialList", "trialsFailed"),
    TrialState.KILLED: ("killedTrialList", "trialsKilled"),
    TrialState.EARLY_STOPPED: ("earlyStoppedTrialList", "trialsEarlyStopped"),
    TrialState.METRICS_UNAVAILABLE: ("metricsUnavailableTrialList", "trialMetricsUnavailable"),
}

CONDITION_MESSAGES = {
    ExperimentReason.CREATED: "Experiment is created",
    ExperimentReason.RUNNING: "Experiment is running",
    ExperimentReason.RESTARTING: "Experiment is restarting",
    ExperimentReason.GOAL_REACHED: "Experiment has succeeded because Objective goal has reached",
    ExperimentReason.MAX_TRIALS_REACHED: "Experiment has succeeded because max trial count has reached",
    ExperimentReason.SUGGESTION_END_REACHED: "Experiment has succeeded because suggestion service has reached the end",
    ExperimentReason.FAILED: "Experiment has failed because max failed count has reached",
    ExperimentReason.INTERRUPTED: "Experiment was interrupted; running it again continues it",
    ExperimentReason.STOPPED: "Experiment was stopped on request; running it again continues it",
}


@dataclass(frozen=True)
class MetricView:
    min: float | None
    max: float | None
    latest: float | None


@dataclass(frozen=True)
class TrialView:
    """What the status needs of one trial."""

    name: str
    state: TrialState
    assignments: Sequence[tuple[str, str]]
    metrics: Mapping[str, MetricView] = field(default_factory=dict)


def now_rfc3339() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def trial_counts(trials: Sequence[TrialView]) -> dict[str, Any]:
    """Katib's per-state name lists and counters (empty lists and zero counters left out, as Katib does)."""
    doc: dict[str, Any] = {}
    for state, (list_key, count_key) in _LISTS.items():
        names = [t.name for t in trials if t.state == state]
        if names:
            doc[list_key] = names
            doc[count_key] = len(names)
    if trials:
        doc["trials"] = len(trials)
    return doc


def optimal_trial(best: TrialView | None, metric_order: Sequence[str]) -> dict[str, Any] | None:
    """`currentOptimalTrial` for the best trial (chosen by the caller with the metric strategies)."""
    if best is None:
        return None
    metrics = [
        {"name": name, **{k: metric_text(getattr(best.metrics[name], k)) for k in ("min", "max", "latest")}}
        for name in metric_order
        if name in best.metrics
    ]
    return {
        "bestTrialName": best.name,
        "parameterAssignments": [{"name": n, "value": v} for n, v in best.assignments],
        "observation": {"metrics": metrics},
    }


def metric_text(value: float | None) -> str:
    """A metric value as Katib writes it in a status (a string; `unavailable` when there is none)."""
    if value is None:
        return "unavailable"
    return repr(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def set_condition(
    conditions: list[dict[str, Any]], type_: str, status: bool, reason: str, message: str, now: str
) -> list[dict[str, Any]]:
    """Add or update a condition; lastTransitionTime changes only when the status flips."""
    text = "True" if status else "False"
    out = [dict(c) for c in conditions]
    for condition in out:
        if condition.get("type") == type_:
            if condition.get("status") != text:
                condition["lastTransitionTime"] = now
            condition.update(status=text, reason=reason, message=message, lastUpdateTime=now)
            return out
    out.append(
        {
            "type": type_,
            "status": text,
            "reason": reason,
            "message": message,
            "lastUpdateTime": now,
            "lastTransitionTime": now,
        }
    )
    return out


def conditions_for(
    previous: Sequence[Mapping[str, Any]],
    state: ExperimentState,
    reason: ExperimentReason,
    now: str,
    message: str | None = None,
) -> list[dict[str, Any]]:
    """The condition list after the experiment moved to `state` for `reason`, Katib's way: Created stays
    True, Running flips to False on completion, and Succeeded/Failed/Restarting are added. Interrupted and
    Stopped (tuner's own) only turn Running False with their reason: resuming turns it True again."""
    conditions = [dict(c) for c in previous]
    text = message or CONDITION_MESSAGES.get(reason, reason.value)
    created = ExperimentReason.CREATED.value
    if not any(c.get("type") == "Created" for c in conditions):
        conditions = set_condition(
            conditions, "Created", True, created, CONDITION_MESSAGES[ExperimentReason.CREATED], now
        )
    if state == ExperimentState.RUNNING:
        conditions = set_condition(conditions, "Running", True, reason.value, text, now)
        for finished in ("Succeeded", "Failed", "Restarting"):
            if any(c.get("type") == finished for c in conditions):
                conditions = [c for c in conditions if c.get("type") != finished]
    elif state in (ExperimentState.INTERRUPTED, ExperimentState.STOPPED):
        conditions = set_condition(conditions, "Running", False, reason.value, text, now)
    elif state == ExperimentState.RESTARTING:
        conditions = set_condition(conditions, "Restarting", True, reason.value, text, now)
    elif state.is_finished:
        if any(c.get("type") == "Running" for c in conditions):
            conditions = set_condition(conditions, "Running", False, reason.value, text, now)
        conditions = set_condition(conditions, state.value, True, reason.value, text, now)
    return conditions
