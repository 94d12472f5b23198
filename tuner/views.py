"""Katib-shaped documents of what the store holds: Experiment and Trial objects, and `kind: List`; and flat
trial rows (one per trial, typed parameters) for CSV and pandas.

`tuner ... -o yaml|json`, the Python client and (later) the REST API print these, so a user sees the same
object `kubectl get experiment -o yaml` would show on a cluster: apiVersion, kind, metadata, spec, status.
Which value of a metric's series stands for a trial is the experiment's metric strategy (`objective_of`),
the same one the controller ranks trials by, so every command shows the value the best trial was chosen by.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from controllers.earlystopping import ALGORITHMS as EARLY_STOPPING
from controllers.status import early_stopping_rules, metric_text, observation_metrics, trial_conditions
from tuner.states import TrialState
from tuner.store import StoreReader
from tuner.store.records import ComparisonRow, Goal, MetricStrategy, MetricSummary, Trial, TrialOrder
from tuner.store.records import Experiment as StoredExperiment

PAGE = 500
"""Trials read per query when every trial of an experiment is written out (memory stays flat)."""

EXPERIMENT_LABEL = "katib.kubeflow.org/experiment"


def rfc3339(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Objective:
    """The experiment's objective metric, its goal, and which value of a trial's series counts (Katib's
    metric strategy: min, max or latest; by default min when minimizing and max when maximizing)."""

    metric: str
    goal: Goal
    strategy: MetricStrategy
    strategies: Mapping[str, MetricStrategy]

    @property
    def label(self) -> str:
        """Column header naming the value shown, e.g. `accuracy (max)`."""
        return f"{self.metric} ({self.strategy.value})"

    @property
    def order(self) -> TrialOrder:
        return TrialOrder(self.metric, self.goal, self.strategy)

    def strategy_of(self, metric: str) -> MetricStrategy:
        default = MetricStrategy.MAX if self.goal == Goal.MAXIMIZE else MetricStrategy.MIN
        return self.strategies.get(metric, default)

    def value(self, metrics: Mapping[str, MetricSummary]) -> float | None:
        """The trial's objective value under the strategy (None when it never reported one)."""
        summary = metrics.get(self.metric)
        return None if summary is None or summary.count == 0 else summary.value_for(self.strategy)

    def best_of(self, metric: str, summary: MetricSummary) -> float | None:
        """The best value a trial reported for `metric`: its min or max by the metric's strategy, or by the
        goal when the strategy is `latest`."""
        strategy = self.strategy_of(metric)
        if strategy == MetricStrategy.LATEST:
            strategy = MetricStrategy.MAX if self.goal == Goal.MAXIMIZE else MetricStrategy.MIN
        return summary.value_for(strategy)


def objective_of(record: StoredExperiment) -> Objective:
    """The objective of a stored experiment, with Katib's defaults for missing strategies."""
    objective = (record.spec.get("spec") or {}).get("objective") or {}
    goal = Goal.MAXIMIZE if objective.get("type") == "maximize" else Goal.MINIMIZE
    strategies: dict[str, MetricStrategy] = {}
    for item in objective.get("metricStrategies") or []:
        try:
            strategies[str(item.get("name"))] = MetricStrategy(item.get("value"))
        except ValueError:
            continue
    metric = str(objective.get("objectiveMetricName") or "")
    default = MetricStrategy.MAX if goal == Goal.MAXIMIZE else MetricStrategy.MIN
    return Objective(metric, goal, strategies.get(metric, default), strategies)


def metric_names(record: StoredExperiment) -> list[str]:
    """The objective metric and the additional metrics, as the spec names them."""
    objective = (record.spec.get("spec") or {}).get("objective") or {}
    names = declared_names(objective)
    return [str(n) for n in dict.fromkeys(names) if n]


def declared_names(objective: Mapping[str, Any]) -> list[Any]:
    """The objective metric, the other objectives (tuner's extension) and the additional metrics."""
    others = [o.get("metricName") for o in objective.get("objectives") or [] if isinstance(o, Mapping)]
    return [objective.get("objectiveMetricName"), *others, *(objective.get("additionalMetricNames") or [])]


def format_value(value: float | None) -> str:
    """A metric value for a table: 6 significant digits, no noise digits (`0.1235`, `1.5e-07`)."""
    if value is None:
        return ""
    if value != value:
        return "nan"
    return f"{value:.6g}"


def status_value_text(text: Any) -> str:
    """A metric value of a status (Katib writes numbers as strings) with the tables' precision."""
    try:
        return format_value(float(text))
    except (TypeError, ValueError):
        return str(text or "")


def trial_folder(trial: Trial) -> Path | None:
    """The trial's folder (log, work dir, pushed metrics), when it was launched here."""
    runtime = trial.runtime
    if runtime is None:
        return None
    if runtime.work_dir:
        return Path(runtime.work_dir)
    return Path(runtime.log_path).parent if runtime.log_path else None


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
    names = declared_names(objective)
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
    store: StoreReader,
    record: StoredExperiment,
    trials: Sequence[Trial] | None = None,
    *,
    rows: Sequence[ComparisonRow] | None = None,
) -> list[dict[str, Any]]:
    """Every trial of the experiment (or those given, or the rows of `compare_trials` given, whose
    summaries are used as read: no query per trial) as Trial objects, with their metrics."""
    rules = _early_stopping_rules(store, record)

    def document(trial: Trial, metrics: Mapping[str, MetricSummary]) -> dict[str, Any]:
        return trial_document(record, trial, metrics, rules(trial) if rules else None)

    if rows is not None:
        return [document(row.trial, row.metrics) for row in rows]
    if trials is not None:
        return [document(t, store.metric_summaries(t.id)) for t in trials]
    return [document(row.trial, row.metrics) for row in store.compare_trials(record.id)]


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


def iter_rows(
    store: StoreReader,
    record: StoredExperiment,
    *,
    states: Sequence[TrialState] | None = None,
    sort_by: TrialOrder | None = None,
    limit: int | None = None,
    offset: int = 0,
    metrics: Sequence[str] | None = None,
) -> Iterator[ComparisonRow]:
    """The experiment's trials page by page (PAGE per query), sorted and cut in the store."""
    remaining = limit
    while remaining is None or remaining > 0:
        size = PAGE if remaining is None else min(PAGE, remaining)
        page = store.compare_trials(record.id, metrics, states, sort_by=sort_by, limit=size, offset=offset)
        yield from page
        if len(page) < size:
            return
        offset += len(page)
        if remaining is not None:
            remaining -= len(page)


def trial_row(
    record: StoredExperiment,
    row: ComparisonRow,
    objective: Objective,
    metrics: Sequence[str],
    space: Any | None = None,
) -> dict[str, Any]:
    """One flat row of a trial for CSV and pandas (column names follow Optuna's `trials_dataframe`).

    Columns: number, name, state, value (the objective by the experiment's metric strategy),
    `params_<name>` (typed by the search space when one is given), `<metric>_final` and `<metric>_best`
    for each metric of the spec, datetime_start, datetime_complete, duration (seconds) and folder.
    """
    trial = row.trial
    out: dict[str, Any] = {
        "number": trial.number,
        "name": trial.name,
        "state": trial.state.value,
        "value": objective.value(row.metrics),
    }
    out.update({f"params_{k}": v for k, v in typed_parameters(trial, space).items()})
    for metric in metrics:
        summary = row.metrics.get(metric)
        out[f"{metric}_final"] = summary.latest if summary is not None else None
        out[f"{metric}_best"] = objective.best_of(metric, summary) if summary is not None else None
    started, completed = trial.started_at, trial.completed_at
    out["datetime_start"] = started
    out["datetime_complete"] = completed
    out["duration"] = (completed - started).total_seconds() if started and completed else None
    folder = trial_folder(trial)
    out["folder"] = str(folder) if folder is not None else None
    return out


def search_space(record: StoredExperiment) -> Any | None:
    """The experiment's search space (for typed parameter values), or None if it cannot be read."""
    from tuner.errors import SpecError
    from tuner.space import SearchSpace

    try:
        return SearchSpace.from_parameters((record.spec.get("spec") or {}).get("parameters") or [])
    except (SpecError, ValueError):
        return None


def typed_parameters(trial: Trial, space: Any | None) -> dict[str, Any]:
    """The trial's parameters as the search space types them; the stored text when it cannot."""
    from tuner.errors import SpecError

    if space is not None:
        try:
            return dict(space.parse(trial.assignment_values()).to_dict())
        except (SpecError, ValueError):
            pass
    return trial.assignment_values()


def list_document(items: Iterable[Mapping[str, Any]], api_version: str = "v1") -> dict[str, Any]:
    """`kind: List` with `items`, as kubectl prints several objects."""
    return {
        "apiVersion": api_version,
        "kind": "List",
        "items": list(items),
        "metadata": {"resourceVersion": ""},
    }


__all__ = [
    "Objective",
    "experiment_document",
    "iter_rows",
    "list_document",
    "objective_of",
    "trial_document",
    "trial_documents",
    "trial_row",
]
