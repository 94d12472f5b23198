"""Writing what the store knows into the custom resources' `status`, in Katib's shape.

The store is the truth (the reconcile loop writes it); the Experiment and Trial objects show it to `kubectl`
and to Katib's SDK. Every write is a merge patch of the status subresource carrying the resourceVersion the
operator read: a concurrent writer makes it fail with 409, and the patch is computed again from a fresh read
(`retry_on_conflict`). Keys the new status no longer has (an emptied `pendingTrialList`) are removed
explicitly, as a merge patch keeps what it does not mention.

`currentOptimalTrial.objectiveValue` (the `Best` printer column) is the best trial's objective reduced by the
objective's metric strategy: a number `kubectl get experiments` can print and sort.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from controllers.kubernetes.client import (
    KubeClient,
    KubeError,
    NotFoundError,
    Object,
    Resource,
    retry_on_conflict,
)
from controllers.kubernetes.trials import trial_condition_state
from controllers.status import observation_metrics
from tuner.spec import Experiment
from tuner.states import TrialState
from tuner.store import Store
from tuner.store.records import Trial

log = logging.getLogger("tuner.operator")

TRIAL_REASONS = {
    TrialState.CREATED: "TrialCreated",
    TrialState.RUNNING: "TrialRunning",
    TrialState.SUCCEEDED: "TrialSucceeded",
    TrialState.FAILED: "TrialFailed",
    TrialState.KILLED: "TrialKilled",
    TrialState.EARLY_STOPPED: "TrialEarlyStopped",
    TrialState.METRICS_UNAVAILABLE: "MetricsUnavailable",
}


def status_patch(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> dict[str, Any]:
    """A merge patch turning status `old` into `new` (keys only `old` has are set to null)."""
    patch: dict[str, Any] = dict(new)
    for key in old or {}:
        if key not in new:
            patch[key] = None
    return patch


def write_status(
    client: KubeClient, resource: Resource, name: str, namespace: str, status: Mapping[str, Any]
) -> Object | None:
    """Patch `status` onto the object with optimistic concurrency; None when the object is gone."""

    def attempt() -> Object | None:
        current = client.get(resource, name, namespace)
        if current.get("status") == status:
            return current
        patch = {
            "metadata": {"resourceVersion": current["metadata"]["resourceVersion"]},
            "status": status_patch(current.get("status"), status),
        }
        return client.patch_status(resource, name, patch, namespace)

    try:
        return retry_on_conflict(attempt)
    except NotFoundError:
        return None


def objective_value(optimal: Mapping[str, Any], objective: str, strategy: str) -> float | None:
    """The number of the best trial's objective by the metric strategy (min, max or latest)."""
    for metric in (optimal.get("observation") or {}).get("metrics") or []:
        if metric.get("name") == objective:
            try:
                return float(metric.get(strategy if strategy in ("min", "max", "latest") else "latest"))
            except (TypeError, ValueError):
                return None
    return None


def experiment_status(stored: Mapping[str, Any], experiment: Experiment) -> dict[str, Any]:
    """The Experiment object's status: the store's Katib-shaped document, plus objectiveValue."""
    status = {k: v for k, v in stored.items()}
    optimal = dict(status.get("currentOptimalTrial") or {"observation": {}})
    objective = experiment.spec.objective.objective_metric_name or ""
    value = objective_value(optimal, objective, experiment.spec.objective.strategy_for(objective).value)
    if value is not None:
        optimal["objectiveValue"] = value
    status["currentOptimalTrial"] = optimal
    return status


def trial_status(store: Store, trial: Trial, metric_names: list[str]) -> dict[str, Any]:
    """A Trial object's status in Katib's shape, from the store's trial and its metric summaries."""

    def stamp(value: Any) -> str | None:
        return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None

    created = stamp(trial.created_at)
    conditions: list[dict[str, Any]] = [
        {
            "type": "Created",
            "status": "True",
            "reason": "TrialCreated",
            "message": "Trial is created",
            "lastUpdateTime": created,
            "lastTransitionTime": created,
        }
    ]
    now = stamp(trial.updated_at)
    if trial.state != TrialState.CREATED:
        running = trial.state == TrialState.RUNNING
        conditions.append(
            {
                "type": "Running",
                "status": "True" if running else "False",
                "reason": "TrialRunning",
                "message": "Trial is running",
                "lastUpdateTime": now,
                "lastTransitionTime": stamp(trial.started_at) or now,
            }
        )
        if not running:
            conditions.append(
                {
                    "type": trial_condition_state(trial.state),
                    "status": "True",
                    "reason": trial.reason or TRIAL_REASONS.get(trial.state, ""),
                    "message": trial.message[:1000],
                    "lastUpdateTime": now,
                    "lastTransitionTime": now,
                }
            )
    status: dict[str, Any] = {"conditions": conditions}
    if trial.started_at is not None:
        status["startTime"] = stamp(trial.started_at)
    if trial.completed_at is not None:
        status["completionTime"] = stamp(trial.completed_at)
    summaries = store.metric_summaries(trial.id)
    if summaries or trial.state.is_finished:
        status["observation"] = {"metrics": observation_metrics(metric_names, summaries)}
    return status


class StatusMirror:
    """Mirrors one experiment's store record and trials onto its objects; writes only what changed."""

    def __init__(
        self,
        client: KubeClient,
        experiments: Resource,
        trials: Resource,
        namespace: str,
        experiment: Experiment,
    ) -> None:
        self.client = client
        self.experiments = experiments
        self.trials = trials
        self.namespace = namespace
        self.experiment = experiment
        self.metric_names = list(experiment.spec.objective.metric_names)
        self._written: dict[str, Any] = {}
        self._trials: dict[int, tuple[str, object]] = {}

    def sync(self, store: Store, experiment_id: int) -> None:
        """Write the experiment's status and the status of every trial whose record changed."""
        for trial in store.list_trials(experiment_id):
            key = (trial.state.value, trial.updated_at)  # metrics are shown once the trial settled
            if self._trials.get(trial.id) == key:
                continue
            try:
                write_status(
                    self.client,
                    self.trials,
                    trial.name,
                    self.namespace,
                    trial_status(store, trial, self.metric_names),
                )
                self._trials[trial.id] = key
            except KubeError as exc:
                log.warning("writing a trial's status failed", extra={"trial": trial.name, "error": str(exc)})
        record = store.get_experiment_by_id(experiment_id)
        status = experiment_status(record.status or {}, self.experiment)
        comparable = {k: v for k, v in status.items() if k != "lastReconcileTime"}
        if comparable == self._written:
            return
        write_status(self.client, self.experiments, self.experiment.name, self.namespace, status)
        self._written = comparable
