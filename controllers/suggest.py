"""The controller's side of the suggestion service: the experiment's trials in, new assignments out.

Builds the algorithm's `History` from the controller's view of the experiment (each trial's objective
reduced by the metric strategy, as Katib's GetSuggestions request carries it), calls the suggester
in-process, and hands back rendered values (what the trial template receives and the store keeps) with
numeric copies for sorting. Parsed assignments are cached by trial: they never change.
"""

from __future__ import annotations

from controllers.reconciler import Proposal, SuggestFn
from controllers.view import ExperimentView, reduce_summary
from suggestions import Direction, History, Suggester, TrialRecord
from tuner.space import Assignment, SearchSpace
from tuner.spec import Experiment
from tuner.store.records import Trial

__all__ = ["build_history", "in_process", "reduce_summary"]


class _Parsed:
    """Typed assignments of the trials, parsed once each, and the records of finished trials, built once."""

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self._by_trial: dict[int, Assignment] = {}
        self._finished: dict[int, TrialRecord] = {}

    def __call__(self, trial: Trial) -> Assignment:
        found = self._by_trial.get(trial.id)
        if found is None:
            found = self._by_trial[trial.id] = self.space.parse(trial.assignment_values())
        return found

    def record(self, view: ExperimentView, trial: Trial) -> TrialRecord:
        """The algorithms' record of `trial`; a finished trial's never changes, so it is kept."""
        done = self._finished.get(trial.id)
        if done is not None:
            return done
        assignment = self(trial)
        if not trial.state.is_finished:
            return TrialRecord(trial.name, assignment, trial.state, None)
        done = self._finished[trial.id] = TrialRecord(trial.name, assignment, trial.state, view.value(trial))
        return done


def build_history(view: ExperimentView, parse: _Parsed) -> History:
    """Every trial so far as the algorithms see it."""
    records = tuple(parse.record(view, t) for t in view.ordered())
    return History(records, Direction.MAXIMIZE if view.maximize else Direction.MINIMIZE)


def in_process(experiment: Experiment, suggester: Suggester, space: SearchSpace) -> SuggestFn:
    """A SuggestFn that calls `suggester` in this process."""
    settings = experiment.spec.algorithm.settings()
    budget = experiment.spec.max_trial_count
    parse = _Parsed(space)

    def suggest(view: ExperimentView, k: int) -> list[Proposal]:
        proposals = suggester.suggest(space, settings, build_history(view, parse), k, budget=budget)
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
