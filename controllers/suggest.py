"""The controller's side of the suggestion service: the experiment's trials in, new assignments out.

Builds the algorithm's `History` from the controller's view of the experiment (each trial's objective
reduced by the metric strategy, as Katib's GetSuggestions request carries it), calls the suggester
in-process, and hands back rendered values (what the trial template receives and the store keeps) with
numeric copies for sorting. Parsed assignments are cached by trial: they never change.

Seeding: Katib's algorithms are random unless `random_state` is set. The algorithms here are stateless and
called again and again, so the experiment's randomness must be fixed once and passed on every call (as the
other settings are): without `random_state`, a seed is drawn from the OS the first time the experiment asks
for suggestions, recorded in the stored experiment as the annotation `tuner.dev/random-state`, and passed as
`random_state` on every call. A resumed experiment reads it back; setting `random_state` to it replays a run.
"""

from __future__ import annotations

import copy
import secrets
from typing import Any

import suggestions
from controllers.errors import TemporaryError
from controllers.reconciler import Proposal, SuggestFn
from controllers.view import ExperimentView, reduce_summary
from suggestions import Direction, History, Suggester, TrialRecord
from suggestions.base import labels_of
from suggestions.client import SuggestionClient, SuggestionUnavailableError
from tuner.space import Assignment, SearchSpace
from tuner.spec import Experiment
from tuner.store import Store
from tuner.store.records import Trial

__all__ = ["SEED_ANNOTATION", "build_history", "experiment_seed", "in_process", "reduce_summary", "remote"]

SEED_ANNOTATION = "tuner.dev/random-state"
"""The stored experiment's annotation holding the seed its algorithm uses when `random_state` is unset."""


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
        labels = dict(trial.labels or {})
        if not trial.state.is_finished:
            return TrialRecord(trial.name, assignment, trial.state, None, labels=labels)
        value = view.value(trial)
        values: tuple[float, ...] = ()
        if view.others:  # several objectives: every one's value, or none (the trial is then not observed)
            values = view.objective_values(trial) or ()
            value = value if values else None
        done = self._finished[trial.id] = TrialRecord(
            trial.name, assignment, trial.state, value, labels=labels, values=values
        )
        return done


def build_history(view: ExperimentView, parse: _Parsed) -> History:
    """Every trial so far as the algorithms see it."""
    records = tuple(parse.record(view, t) for t in view.ordered())
    directions = [view.maximize, *(m for _, _, m in view.others)] if view.others else []
    return History(
        records,
        Direction.MAXIMIZE if view.maximize else Direction.MINIMIZE,
        tuple(Direction.MAXIMIZE if m else Direction.MINIMIZE for m in directions),
    )


def experiment_seed(store: Store, experiment_id: int) -> int:
    """The experiment's seed: the one recorded in the stored experiment, or a new one from the OS, recorded."""
    record = store.get_experiment_by_id(experiment_id)
    annotations = (record.spec.get("metadata") or {}).get("annotations") or {}
    recorded = str(annotations.get(SEED_ANNOTATION, ""))
    if recorded.isdecimal() and int(recorded) < 2**32:
        return int(recorded)
    seed = secrets.randbelow(2**32)
    document: dict[str, Any] = copy.deepcopy(record.spec)
    metadata = document.setdefault("metadata", {})
    metadata["annotations"] = {**(metadata.get("annotations") or {}), SEED_ANNOTATION: str(seed)}
    store.update_experiment_spec(record.id, document, record.spec_digest)
    return seed


def in_process(experiment: Experiment, suggester: Suggester, space: SearchSpace) -> SuggestFn:
    """A SuggestFn that calls `suggester` in this process (seeded once per experiment, see above)."""
    settings = experiment.spec.algorithm.settings()
    seeded = "random_state" in settings or "random_state" not in suggester.settings_schema.settings
    budget = experiment.spec.max_trial_count
    parse = _Parsed(space)

    def suggest(view: ExperimentView, k: int) -> list[Proposal]:
        nonlocal seeded
        if not seeded:
            settings["random_state"] = str(experiment_seed(view.store, view.experiment_id))
            seeded = True
        proposals = suggester.suggest(space, settings, build_history(view, parse), k, budget=budget)
        return [(a.rendered(), {n: _numeric(v) for n, v in a.items()}, labels_of(a)) for a in proposals]

    return suggest


def remote(experiment: Experiment, client: SuggestionClient, space: SearchSpace) -> SuggestFn:
    """A SuggestFn that asks the HTTP suggestion service (`tuner suggestion-server`) behind `client`.

    Seeded as `in_process` (when this tuner's registry says the algorithm takes `random_state`). The client
    retries a failed request a few times with backoff; when the service stays unreachable (or answers
    502/503/504) the pass raises `TemporaryError`: the reconciler creates no trial this pass and asks again
    later, so a suggestion service that is down delays trials but fails nothing.
    """
    algorithm = experiment.spec.algorithm_name or ""
    settings = experiment.spec.algorithm.settings()
    try:
        takes_seed = "random_state" in suggestions.get_suggester(algorithm).settings_schema.settings
    except Exception:  # an algorithm only the service knows
        takes_seed = False
    seeded = "random_state" in settings or not takes_seed
    budget = experiment.spec.max_trial_count
    parse = _Parsed(space)

    def suggest(view: ExperimentView, k: int) -> list[Proposal]:
        nonlocal seeded
        if not seeded:
            settings["random_state"] = str(experiment_seed(view.store, view.experiment_id))
            seeded = True
        try:
            proposals = client.suggest(
                algorithm, space, settings, build_history(view, parse), k, budget=budget
            )
        except SuggestionUnavailableError as exc:
            raise TemporaryError(f"the suggestion service is unavailable: {exc}", delay=2.0) from exc
        return [(a.rendered(), {n: _numeric(v) for n, v in a.items()}, labels_of(a)) for a in proposals]

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
