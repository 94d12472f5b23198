"""Katib-shaped documents of what the store holds: Experiment and Trial objects, and `kind: List`.

`tuner ... -o yaml|json`, the Python client and (later) the REST API print these, so a user sees the same
object `kubectl get experiment -o yaml` would show on a cluster: apiVersion, kind, metadata, spec, status.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from controllers.earlystopping import ALGORITHMS as EARLY_STOPPING
from controllers.status import early_stopping_rules, metric_text, observation_metrics, trial_conditions
from tuner.states import TrialState
from tuner.store import StoreReader
from tuner.store.records import Experiment as StoredExperiment
from tuner.store.records import MetricSummary, Trial

EXPERIMENT_LABEL = "katib.kubeflow.org/experiment"


def rfc3339(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def experiment_document(record: StoredExperiment) -> dict[str, Any]:
    """The stored spec with its current status, as an Experiment object."""
    document = {k: v for k, v in record.spec.items() if k != "status"}
    metadata = dict(document.get("metadata") or {})
    metadata.setdefault("name", record.name)
    metadata.setdefault("namespace", record.namespace)
    metadata.setdefault("creationTimestamp", rfc3339(record.created_at))
    document["metadata"] = metadata
    document["status"] = dict(record.status or {})
    return document


def metric_document(name: str, summary: MetricSummary) -> dict[str, str]:
    return {
        "name": name,
        "min": metric_text(summary.min),
        "max": metric_text(summary.max),
        "latest": metric_text(summary.latest),
    }


def trial_document(
    record: StoredExperiment,
    trial: Trial,
    summaries: Mapping[str, MetricSummary],
    rules: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A Trial object as Katib's trial controller would show it (`rules`: its earlyStoppingRules)."""
    spec = record.spec.get("spec") or {}
    template = spec.get("trialTemplate") or {}
    objective = spec.get("objective") or {}
    names = [objective.get("objectiveMetricName"), *(objective.get("additionalMetricNames") or [])]
    names = [n for n in names if n]
    conditions = trial_conditions(
        trial.state,
        trial.reason,
        trial.message,
        rfc3339(trial.created_at),
        rfc3339(trial.started_at),
        rfc3339(trial.completed_at),
    )
    status: dict[str, Any] = {
        "startTime": rfc3339(trial.started_at),
        "lastReconcileTime": rfc3339(trial.updated_at),
        "conditions": conditions,
    }
    if trial.completed_at is not None:
        status["completionTime"] = rfc3339(trial.completed_at)
    if summaries or trial.state == TrialState.METRICS_UNAVAILABLE:
        status["observation"] = {"metrics": observation_metrics(names, summaries)}
    trial_spec: dict[str, Any] = {
        "objective": objective,
        "parameterAssignments": [{"name": a.name, "value": a.value} for a in trial.assignments],
        "primaryContainerName": template.get("primaryContainerName"),
        "metricsCollector": spec.get("metricsCollectorSpec"),
        "retainRun": True if template.get("retain") else None,  # Go's omitempty leaves out false
        "earlyStoppingRules": rules,
    }
    if trial.run_spec:
        trial_spec["runSpec"] = trial.run_spec
    for key in ("successCondition", "failureCondition"):
        if template.get(key):
            trial_spec[key] = template[key]
    return {
        "apiVersion": record.spec.get("apiVersion", "kubeflow.org/v1beta1"),
        "kind": "Trial",
        "metadata": {
            "name": trial.name,
            "namespace": record.namespace,
            "labels": {EXPERIMENT_LABEL: record.name, **trial.labels},
            "creationTimestamp": rfc3339(trial.created_at),
        },
        "spec": {k: v for k, v in trial_spec.items() if v is not None},
        "status": {k: v for k, v in status.items() if v is not None},
    }


def trial_documents(
    store: StoreReader, record: StoredExperiment, trials: Sequence[Trial] | None = None
) -> list[dict[str, Any]]:
    """Every trial of the experiment (or those given) as Trial objects, with their metrics."""
    rows = {row.trial.id: row for row in store.compare_trials(record.id)}
    chosen = trials if trials is not None else [row.trial for row in rows.values()]
    rules = _early_stopping_rules(store, record)
    return [
        trial_document(record, t, rows[t.id].metrics if t.id in rows else {}, rules(t) if rules else None)
        for t in chosen
    ]


def _early_stopping_rules(store: StoreReader, record: StoredExperiment) -> Callable[[Trial], Any] | None:
    """Each trial's earlyStoppingRules, when the experiment uses early stopping."""
    spec = record.spec.get("spec") or {}
    early = spec.get("earlyStopping") or {}
    name = early.get("algorithmName")
    if not name or name not in EARLY_STOPPING:
        return None
    settings = {s.get("name"): str(s.get("value")) for s in early.get("algorithmSettings") or []}
    stopper = EARLY_STOPPING[name].from_settings(settings)
    objective = spec.get("objective") or {}
    metric, maximize = objective.get("objectiveMetricName", ""), objective.get("type") == "maximize"
    start_step = getattr(stopper, "start_step", None)

    def rules(trial: Trial) -> list[dict[str, Any]]:
        thresholds = [
            d.threshold
            for d in store.list_early_stopping_decisions(trial.id)
            if d.stop and d.threshold is not None
        ]
        return early_stopping_rules(metric, maximize, start_step, thresholds)

    return rules


def list_document(items: Iterable[Mapping[str, Any]], api_version: str = "v1") -> dict[str, Any]:
    """`kind: List` with `items`, as kubectl prints several objects."""
    return {
        "apiVersion": api_version,
        "kind": "List",
        "items": list(items),
        "metadata": {"resourceVersion": ""},
    }


__all__ = ["experiment_document", "list_document", "trial_document", "trial_documents"]
