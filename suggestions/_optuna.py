"""Driving an optuna sampler statelessly: the whole history becomes a throw-away study on every call.

Used by the algorithm modules built on optuna (`tpe`, `multivariate-tpe`, `auto`). optuna's own
in-memory storage copies every trial on insertion (about 0.1 s for 1,000 trials), so the study here sits
on `HistoryStorage`, a minimal single-study storage over a plain list of `FrozenTrial`s whose parameter
dicts are built once per trial and cached. Trials are numbered in history order, so a cold process
builds exactly the study a warm one does. `ask` then creates RUNNING trials in that storage, which is how
pending trials and earlier points of the same batch reach samplers that use a constant liar.

Space mapping: doubles and ints keep their range and log scale (optuna has no normal prior and no log
scale with a step, so those points are snapped back into the space afterwards); discrete parameters
become their rank in sorted order (an int, so that the order is modelled); categorical stay categorical.

Several objectives: the study has one MINIMIZE direction per objective and trials carry `History.losses`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Container, Sequence
from typing import Any

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.exceptions import ExperimentalWarning
from optuna.storages import BaseStorage
from optuna.study import StudyDirection
from optuna.study._frozen import FrozenStudy
from optuna.trial import FrozenTrial, TrialState

from suggestions._cache import LruCache
from suggestions.history import History
from tuner.space import (
    Assignment,
    CategoricalParameter,
    DiscreteParameter,
    DoubleParameter,
    IntParameter,
    Parameter,
    SearchSpace,
    Value,
    as_float,
)

_STUDY_ID = 0
_STUDY_NAME = "tuner-suggestion"
_CACHE_SIZE = 50_000  # cached optuna trials (about a kilobyte each)


def distributions(space: SearchSpace) -> dict[str, BaseDistribution]:
    """optuna distributions for a space (see the module docstring for the mapping)."""
    return {p.name: _distribution(p) for p in space}


def _distribution(p: Parameter) -> BaseDistribution:
    if isinstance(p, DoubleParameter):
        step = None if p.log or p.step is None else p.step
        high = p.high if step is None else as_float(p.value_at((p.cardinality or 1) - 1))
        return FloatDistribution(p.low, high, log=p.log, step=step)
    if isinstance(p, IntParameter):
        step = 1 if p.log else int(p.step or 1)
        high = int(as_float(p.value_at((p.cardinality or 1) - 1)))
        return IntDistribution(int(p.low), high, log=p.log, step=step)
    if isinstance(p, DiscreteParameter):
        return IntDistribution(0, p.cardinality - 1)
    assert isinstance(p, CategoricalParameter)
    return CategoricalDistribution(list(p.texts))  # optuna sees the choices' texts; `from_optuna` maps back


def to_optuna(space: SearchSpace, a: Assignment) -> dict[str, Any]:
    """optuna's external representation of an assignment."""
    out: dict[str, Any] = {}
    for p in space:
        v = a[p.name]
        if isinstance(p, DiscreteParameter):
            out[p.name] = int(p.to_unit(v) * p.cardinality)
        else:
            out[p.name] = p.render(v) if isinstance(p, CategoricalParameter) else v
    return out


def from_optuna(space: SearchSpace, params: dict[str, Any]) -> Assignment:
    """The assignment of optuna parameters, snapped into the space."""
    values: list[tuple[str, Value]] = []
    for p in space:
        v = params[p.name]
        if isinstance(p, DiscreteParameter):
            values.append((p.name, p.from_unit((int(v) + 0.5) / p.cardinality)))
        elif isinstance(p, (DoubleParameter, IntParameter)):
            values.append((p.name, p.nearest(float(v))))
        else:
            values.append((p.name, p.parse(str(v))))
    return Assignment(values)


# History trials as optuna trials, keyed by everything the FrozenTrial holds, position included. The
# cached objects are shared between calls and never modified: HistoryStorage only writes to trials it
# created itself, after the history's ones.
_FROZEN = LruCache(_CACHE_SIZE)


def frozen_trials(space: SearchSpace, history: History, include_pending: bool = True) -> list[FrozenTrial]:
    """The history as optuna trials: observed ones COMPLETE (losses), pending ones RUNNING."""
    dists = distributions(space)
    digest = space.digest()
    out: list[FrozenTrial] = []
    several = history.is_multi_objective
    for t in history.trials:
        values: tuple[float, ...] | None = None
        value: float | None
        if t.observed:
            state, value = TrialState.COMPLETE, history.loss(t)
            if several:
                value, values = None, history.losses(t)
        elif include_pending and t.pending:
            state, value = TrialState.RUNNING, None
        else:
            continue
        n = len(out)
        key = (digest, n, t.assignment, state, value, values)
        frozen = _FROZEN.get(key)
        if frozen is None:
            params = to_optuna(space, t.assignment)
            frozen = FrozenTrial(
                n,
                state,
                value,
                None,
                None,
                params,
                dists,
                {},
                {},
                {},
                n,
                values=None if values is None else list(values),
            )
            _FROZEN.put(key, frozen)
        out.append(frozen)
    return out


class HistoryStorage(BaseStorage):
    """One study over a list of trials; new trials live only as long as this object (one call)."""

    def __init__(self, trials: list[FrozenTrial], objectives: int = 1) -> None:
        self._trials = trials
        self._directions = [StudyDirection.MINIMIZE] * objectives  # values are losses (History.loss)
        self._study_user_attrs: dict[str, Any] = {}
        self._study_system_attrs: dict[str, Any] = {}

    # -- study ----------------------------------------------------------------------------------------
    def create_new_study(self, directions: Sequence[StudyDirection], study_name: str | None = None) -> int:
        raise NotImplementedError("HistoryStorage holds exactly one study")

    def delete_study(self, study_id: int) -> None:
        raise NotImplementedError("HistoryStorage holds exactly one study")

    def set_study_user_attr(self, study_id: int, key: str, value: Any) -> None:
        self._study_user_attrs[key] = value

    def set_study_system_attr(self, study_id: int, key: str, value: Any) -> None:
        self._study_system_attrs[key] = value

    def get_study_id_from_name(self, study_name: str) -> int:
        return _STUDY_ID

    def get_study_name_from_id(self, study_id: int) -> str:
        return _STUDY_NAME

    def get_study_directions(self, study_id: int) -> list[StudyDirection]:
        return list(self._directions)

    def get_study_user_attrs(self, study_id: int) -> dict[str, Any]:
        return self._study_user_attrs

    def get_study_system_attrs(self, study_id: int) -> dict[str, Any]:
        return self._study_system_attrs

    def get_all_studies(self) -> list[FrozenStudy]:
        return [
            FrozenStudy(
                _STUDY_NAME,
                None,
                user_attrs=self._study_user_attrs,
                system_attrs=self._study_system_attrs,
                study_id=_STUDY_ID,
                directions=list(self._directions),
            )
        ]

    # -- trials ---------------------------------------------------------------------------------------
    def create_new_trial(self, study_id: int, template_trial: FrozenTrial | None = None) -> int:
        n = len(self._trials)
        if template_trial is None:
            trial = FrozenTrial(n, TrialState.RUNNING, None, None, None, {}, {}, {}, {}, {}, n)
        else:
            trial = FrozenTrial(
                n,
                template_trial.state,
                None,
                None,
                None,
                dict(template_trial.params),
                dict(template_trial.distributions),
                dict(template_trial.user_attrs),
                dict(template_trial.system_attrs),
                dict(template_trial.intermediate_values),
                n,
                values=template_trial.values,
            )
        self._trials.append(trial)
        return n

    def set_trial_param(
        self, trial_id: int, param_name: str, param_value_internal: float, distribution: BaseDistribution
    ) -> None:
        trial = self._trials[trial_id]
        trial.params = {**trial.params, param_name: distribution.to_external_repr(param_value_internal)}
        trial.distributions = {**trial.distributions, param_name: distribution}

    def set_trial_state_values(
        self, trial_id: int, state: TrialState, values: Sequence[float] | None = None
    ) -> bool:
        trial = self._trials[trial_id]
        trial.state = state
        if values is not None:
            trial.values = list(values)
        return True

    def set_trial_intermediate_value(self, trial_id: int, step: int, intermediate_value: float) -> None:
        self._trials[trial_id].intermediate_values[step] = intermediate_value

    def set_trial_user_attr(self, trial_id: int, key: str, value: Any) -> None:
        self._trials[trial_id].user_attrs = {**self._trials[trial_id].user_attrs, key: value}

    def set_trial_system_attr(self, trial_id: int, key: str, value: Any) -> None:
        self._trials[trial_id].system_attrs = {**self._trials[trial_id].system_attrs, key: value}

    def get_trial(self, trial_id: int) -> FrozenTrial:
        return self._trials[trial_id]

    def get_all_trials(
        self, study_id: int, deepcopy: bool = True, states: Container[TrialState] | None = None
    ) -> list[FrozenTrial]:
        if states is None:
            return list(self._trials)
        return [t for t in self._trials if t.state in states]


def ask(
    space: SearchSpace,
    history: History,
    k: int,
    make_sampler: Callable[[], optuna.samplers.BaseSampler],
    include_pending: bool = True,
    prepare: Callable[[list[FrozenTrial]], list[FrozenTrial]] | None = None,
) -> list[Assignment]:
    """`k` points from a fresh sampler over the history; each earlier point of the batch stays RUNNING.

    `prepare` may replace the trials before the study sees them (copies only: the cached ones are shared),
    e.g. to label the generations of a genetic algorithm.
    """
    trials = frozen_trials(space, history, include_pending)
    storage = HistoryStorage(prepare(trials) if prepare else trials, len(history.objectives))
    dists = distributions(space)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", FutureWarning)
        study = optuna.Study(_STUDY_NAME, storage, sampler=make_sampler())
        return [from_optuna(space, study.ask(dists).params) for _ in range(k)]
