"""`status.paretoFront` of a multi-objective experiment (tuner's extension of Katib's status).

Each entry has the shape of `currentOptimalTrial` with `trialName` for `bestTrialName`: the trial's name,
its parameter assignments and its observation (every objective metric, Katib's min/max/latest strings).
A trial's entry never changes once it is finished, so it is built once (one store read) and kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from controllers.status import optimal_trial, stored_trial_view
from tuner.spec import ObjectiveSpec, ObjectiveType
from tuner.store import Store
from tuner.store.records import Trial


def other_objectives(objective: ObjectiveSpec) -> tuple[tuple[str, str, bool], ...]:
    """(metric, strategy, maximize) of every objective after the first; () for a single objective."""
    if not objective.is_multi_objective:
        return ()
    return tuple(
        (name, objective.strategy_for(name).value, kind == ObjectiveType.MAXIMIZE)
        for name, kind in objective.directions[1:]
    )


class ParetoDocuments:
    """Builds and keeps the entries of `status.paretoFront`, one per trial on the front."""

    def __init__(self, store: Store, metric_order: Sequence[str]) -> None:
        self.store = store
        self.metric_order = list(metric_order)
        self._by_trial: dict[int, dict[str, Any]] = {}

    def documents(self, front: Sequence[Trial]) -> list[dict[str, Any]]:
        """The entries for these trials, in the given order."""
        return [self._document(trial) for trial in front]

    def _document(self, trial: Trial) -> dict[str, Any]:
        found = self._by_trial.get(trial.id)
        if found is None:
            view = stored_trial_view(trial, self.store.metric_summaries(trial.id))
            optimal = optimal_trial(view, self.metric_order)
            found = {"trialName": optimal.pop("bestTrialName"), **optimal}
            self._by_trial[trial.id] = found
        return found
