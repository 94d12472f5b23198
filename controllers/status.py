"""Katib's Experiment status, computed from the trials: counters, name lists, optimal trial, conditions.

Pure functions: the reconciler hands in what it read from the store and writes back the document only when
it changed, so `tuner run -o yaml` and `kubectl get experiment -o yaml` (through the operator) look alike.
Metric values are strings, as in Katib's `Metric` type. The shapes are Katib's Go types
(experiment_types.go, trial_types.go) as encoding/json writes them: `currentOptimalTrial` is a struct, so it
is always there (`{observation: {}}` before a best trial); a metric with no value reads `unavailable` in
min, max and latest; a condition is changed Katib's way (setCondition: unchanged status and reason change
nothing; otherwise the condition moves to the end, keeping lastTransitionTime when only the reason changed),
and on completion Running turns False keeping its own reason and message (ExperimentRunning, TrialRunning).
Trial documents also carry `lastReconcileTime` and, with early stopping, `earlyStoppingRules`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from tuner.states import ExperimentReason, ExperimentState, TrialState
from tuner.store.records import MetricSummary, Trial

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


def stored_trial_view(trial: Trial, summaries: Mapping[str, MetricSummary]) -> TrialView:
    """A stored trial and its metric summaries (`Store.metric_summaries`) as the status reads them."""
    return TrialView(
        trial.name,
        trial.state,
        [(a.name, a.value) for a in trial.assignments],
        {name: MetricView(s.min, s.max, s.latest) for name, s in summaries.items()},
    )


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


def no_optimal_trial() -> dict[str, Any]:
    """`currentOptimalTrial` before any trial has an objective value, as Katib writes its empty struct."""
    return {"observation": {}}


def optimal_trial(best: TrialView | None, metric_order: Sequence[str]) -> dict[str, Any]:
    """`currentOptimalTrial` for the best trial (chosen by the caller with the metric strategies).

    Every metric of the objective is listed; one the trial never reported reads `unavailable`, as in the
    trial's observation that Katib copies here.
    """
    if best is None:
        return no_optimal_trial()
    return {
        "bestTrialName": best.name,
        "parameterAssignments": [{"name": n, "value": v} for n, v in best.assignments],
        "observation": {"metrics": observation_metrics(metric_order, best.metrics)},
    }


def observation_metrics(metric_order: Sequence[str], metrics: Mapping[str, Any]) -> list[dict[str, str]]:
    """Katib's `observation.metrics`: one entry per metric name, `unavailable` where nothing was reported.

    `metrics` maps a name to anything with `min`, `max` and `latest` (floats or None).
    """
    out = []
    for name in dict.fromkeys(metric_order):
        found = metrics.get(name)
        out.append(
            {"name": name, **{k: metric_text(getattr(found, k, None)) for k in ("min", "max", "latest")}}
        )
    return out


def metric_text(value: float | None) -> str:
    """A metric value as Katib writes it in a status (a string; `unavailable` when there is none)."""
    if value is None:
        return "unavailable"
    return repr(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def set_condition(
    conditions: list[dict[str, Any]], type_: str, status: bool, reason: str, message: str, now: str
) -> list[dict[str, Any]]:
    """Katib's setCondition: nothing changes when status and reason are the same; otherwise the condition
    is replaced and moves to the end of the list, keeping lastTransitionTime if the status did not flip."""
    text = "True" if status else "False"
    current = next((c for c in conditions if c.get("type") == type_), None)
    if current is not None and current.get("status") == text and current.get("reason") == reason:
        return [dict(c) for c in conditions]
    transition = now
    if current is not None and current.get("status") == text:
        transition = current.get("lastTransitionTime", now)
    out = [dict(c) for c in conditions if c.get("type") != type_]
    out.append(
        {
            "type": type_,
            "status": text,
            "reason": reason,
            "message": message,
            "lastUpdateTime": now,
            "lastTransitionTime": transition,
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
        running = next((c for c in conditions if c.get("type") == "Running"), None)
        if running is not None:  # Katib keeps Running's own reason and message when it turns False
            conditions = set_condition(
                conditions,
                "Running",
                False,
                str(running.get("reason", ExperimentReason.RUNNING.value)),
                str(running.get("message", "")),
                now,
            )
        conditions = set_condition(conditions, state.value, True, reason.value, text, now)
    return conditions


TRIAL_CREATED = ("TrialCreated", "Trial is created")
TRIAL_RUNNING = ("TrialRunning", "Trial is running")


def trial_conditions(
    state: TrialState,
    reason: str,
    message: str,
    created: str | None,
    started: str | None,
    completed: str | None,
) -> list[dict[str, Any]]:
    """A trial's conditions as Katib's trial controller leaves them: Created; Running (False once the trial
    ended, with its own reason TrialRunning); then the final condition with the trial's reason."""

    def condition(type_: str, status: str, why: str, text: str, when: str | None) -> dict[str, Any]:
        return {
            "type": type_,
            "status": status,
            "reason": why,
            "message": text,
            "lastUpdateTime": when,
            "lastTransitionTime": when,
        }

    conditions = [condition(TrialState.CREATED.value, "True", *TRIAL_CREATED, created)]
    if state != TrialState.CREATED:
        if state == TrialState.RUNNING:
            conditions.append(condition("Running", "True", *TRIAL_RUNNING, started or created))
        elif started is not None:
            running = condition("Running", "False", *TRIAL_RUNNING, completed or started)
            running["lastUpdateTime"] = completed or started
            conditions.append(running)
    if state.is_finished:
        conditions.append(condition(state.value, "True", reason, message, completed))
    return conditions


def early_stopping_rules(
    metric: str, maximize: bool, start_step: int | None, thresholds: Sequence[float]
) -> list[dict[str, Any]]:
    """`spec.earlyStoppingRules` of a trial: stop when the objective is worse than the threshold.

    Katib's medianstop computes one threshold when the trial is created; here the threshold moves with the
    finished trials (see controllers/earlystopping), so a rule's value is the one the trial was judged by
    when it was stopped, and is absent while no decision was taken.
    """
    rule: dict[str, Any] = {"name": metric, "comparison": "less" if maximize else "greater"}
    if start_step:
        rule["startStep"] = start_step
    if thresholds:
        rule["value"] = metric_text(thresholds[-1])
    return [rule]
