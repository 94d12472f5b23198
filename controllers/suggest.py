"""The controller's side of the suggestion service: store trials in, new assignments out.

Builds the algorithm's `History` from the store (each trial's objective reduced by the metric strategy,
Katib's GetSuggestions request carries the same), calls the suggester in-process, and hands back rendered
values (what the trial template receives and the store keeps) with numeric copies for sorting.
"""

from __future__ import annotations

from collections.abc import Sequence

from controllers.reconciler import Proposal, SuggestFn
from suggestions import Direction, History, Suggester, TrialRecord
from tuner.space import SearchSpace
from tuner.spec import Experiment
from tuner.store import Store
from tuner.store.records import MetricSummary, Trial


def reduce_summary(summary: MetricSummary | None, strategy: str) -> float | None:
    """The one value of a metric's series that stands for the trial (Katib's min / max / latest)."""
    if summary is None or summary.count == 0:
        return None
    return {"min": summary.min, "max": summary.max}.get(strategy, summary.latest)


def build_history(
    store: Store, experiment_id: int, trials: Sequence[Trial], space: SearchSpace, experiment: Experiment
) -> History:
    """Every trial so far as the algorithms see it."""
    objective = experiment.spec.objective
    metric = objective.objective_metric_name or ""
    strategy = objective.strategy_for(metric).value
    rows = {row.trial.id: row for row in store.compare_trials(experiment_id, metrics=[metric])}
    records = []
    for trial in trials:
        row = rows.get(trial.id)
        value = reduce_summary(row.metrics.get(metric) if row else None, strategy)
        records.append(TrialRecord(trial.name, space.parse(trial.assignment_values()), trial.state, value))
    direction = (
        Direction.MAXIMIZE
        if objective.type is not None and objective.type.value == "maximize"
        else Direction.MINIMIZE
    )
    return History(tuple(records), direction)


def in_process(
    store: Store, experiment_id: int, experiment: Experiment, suggester: Suggester, space: SearchSpace
) -> SuggestFn:
    """A SuggestFn that calls `suggester` in this process."""
    settings = experiment.spec.algorithm.settings()
    budget = experiment.spec.max_trial_count

    def suggest(trials: Sequence[Trial], k: int) -> list[Proposal]:
        history = build_history(store, experiment_id, trials, space, experiment)
        proposals = suggester.suggest(space, settings, history, k, budget=budget)
        return [(a.rendered(), {n: _numeric(v) for n, v in a.items()}) for a in proposals]

    return suggest


def _numeric(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None
