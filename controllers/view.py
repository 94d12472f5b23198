"""The controller's view of its experiment: every trial and its objective value, kept in memory.

The reconciler reads this instead of re-reading every trial from the store on every pass (which costs
O(trials) per pass and O(trials^2) per experiment). It is exact because, under the experiment's lease, this
controller is the only writer of its trials' records: every record it creates or changes comes back from
the store call and is put here, and objective values are read once, when a trial settles. `load` fills
it from the store, which is how a restarted controller picks up where the last one stopped (the store stays
the truth; this is a cache of it, like an informer's cache in controller-runtime).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from controllers.earlystopping import Progress
from controllers.pareto import add_to_front
from tuner.states import TrialState
from tuner.store import Store
from tuner.store.records import MetricSummary, Trial

OBSERVED = (TrialState.SUCCEEDED, TrialState.EARLY_STOPPED)
"""States whose objective value counts for the optimal trial, the goal and the algorithms' models."""


def reduce_summary(summary: MetricSummary | None, strategy: str) -> float | None:
    """The one value of a metric's series that stands for the trial (Katib's min / max / latest)."""
    if summary is None or summary.count == 0:
        return None
    return {"min": summary.min, "max": summary.max}.get(strategy, summary.latest)


@dataclass
class ExperimentView:
    """Trials of one experiment by id, with objective values and finished series (see the module docstring)."""

    store: Store
    experiment_id: int
    objective: str
    strategy: str  # "min" | "max" | "latest"
    maximize: bool
    trials: dict[int, Trial] = field(default_factory=dict)
    values: dict[int, float | None] = field(default_factory=dict)
    series: dict[int, Progress] = field(default_factory=dict)
    best_id: int | None = None
    others: tuple[tuple[str, str, bool], ...] = ()
    """Several objectives (tuner's extension): (metric, strategy, maximize) of each one after the first."""
    other_values: dict[int, tuple[float | None, ...]] = field(default_factory=dict)
    front: dict[int, tuple[float, ...]] = field(default_factory=dict)
    """Several objectives: the Pareto front's trial ids and their losses (every objective minimised)."""

    def load(self) -> None:
        """Fill the view from the store (one pass over the trials and their objective summaries)."""
        self.trials.clear()
        self.values.clear()
        self.series.clear()
        self.other_values.clear()
        self.front.clear()
        self.best_id = None
        names = [self.objective, *(name for name, _, _ in self.others)]
        rows = self.store.compare_trials(self.experiment_id, metrics=names)
        for row in rows:
            self.trials[row.trial.id] = row.trial
            if row.trial.state.is_finished:
                self.values[row.trial.id] = reduce_summary(row.metrics.get(self.objective), self.strategy)
                self._read_others(row.trial.id, row.metrics)
                self._consider(row.trial.id)

    def put(self, trial: Trial) -> None:
        """Record a trial this controller just created or changed."""
        self.trials[trial.id] = trial

    def settle(self, trial: Trial) -> None:
        """Record a trial that reached its final state: its objective value is read now, once."""
        self.trials[trial.id] = trial
        summaries = self.store.metric_summaries(trial.id)
        self.values[trial.id] = reduce_summary(summaries.get(self.objective), self.strategy)
        self._read_others(trial.id, summaries)
        self._consider(trial.id)

    def finished_progress(self, trial: Trial) -> Progress:
        """The objective's series of a finished trial (loaded once; it never changes)."""
        cached = self.series.get(trial.id)
        if cached is None:
            points = self.store.metric_series(trial.id, self.objective)
            cached = Progress(
                trial.name,
                [(p.step if p.step is not None else i + 1, p.value) for i, p in enumerate(points)],
                True,
            )
            self.series[trial.id] = cached
        return cached

    # -- reading ---------------------------------------------------------------------------------
    def ordered(self) -> list[Trial]:
        return sorted(self.trials.values(), key=lambda t: t.number)

    def count(self, states: Iterable[TrialState]) -> int:
        wanted = set(states)
        return sum(1 for t in self.trials.values() if t.state in wanted)

    @property
    def active(self) -> int:
        return sum(1 for t in self.trials.values() if t.state.is_active)

    @property
    def failed(self) -> int:
        return sum(1 for t in self.trials.values() if t.state.counts_as_failed)

    def value(self, trial: Trial) -> float | None:
        return self.values.get(trial.id)

    @property
    def best(self) -> tuple[Trial, float] | None:
        """The observed trial with the best objective value (ties: the lower trial number)."""
        if self.best_id is None:
            return None
        value = self.values[self.best_id]
        assert value is not None
        return self.trials[self.best_id], value

    def objective_values(self, trial: Trial) -> tuple[float, ...] | None:
        """Every objective's value (several objectives), None while one is missing or not a number."""
        values = (self.values.get(trial.id), *self.other_values.get(trial.id, (None,) * len(self.others)))
        if any(v is None or v != v for v in values):
            return None
        return tuple(v for v in values if v is not None)

    def pareto_front(self) -> list[Trial]:
        """Several objectives: the observed trials no other one beats on every objective, by number."""
        return sorted((self.trials[i] for i in self.front), key=lambda t: t.number)

    def _read_others(self, trial_id: int, summaries: Mapping[str, MetricSummary]) -> None:
        if self.others:
            self.other_values[trial_id] = tuple(
                reduce_summary(summaries.get(name), strategy) for name, strategy, _ in self.others
            )

    def _consider_front(self, trial: Trial) -> None:
        values = self.objective_values(trial)
        if values is None:
            return
        maximized = (self.maximize, *(m for _, _, m in self.others))
        add_to_front(
            self.front, trial.id, tuple(-v if m else v for v, m in zip(values, maximized, strict=True))
        )

    def next_number(self) -> int:
        return max((t.number for t in self.trials.values()), default=-1) + 1

    def _consider(self, trial_id: int) -> None:
        trial = self.trials[trial_id]
        value = self.values.get(trial_id)
        if trial.state not in OBSERVED or value is None or value != value:  # NaN never wins
            return
        if self.others:
            self._consider_front(trial)
        if self.best_id is None:
            self.best_id = trial_id
            return
        best_value = self.values[self.best_id]
        assert best_value is not None
        better = value > best_value if self.maximize else value < best_value
        tie = value == best_value and trial.number < self.trials[self.best_id].number
        if better or tie:
            self.best_id = trial_id
