"""Conformance suite: what every suggestion algorithm must do, runnable against any `Suggester`.

The built-in algorithms run it in ``tests/suggestions/test_conformance.py``; an outside algorithm
registered through the ``tuner.suggestions`` entry points can run it the same way::

    @pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
    def test_my_algorithm(check):
        check(MySuggester(), Profile(settings={"my_setting": "3"}))

Each check raises AssertionError with a readable message when the algorithm misbehaves. The checks use
real spaces covering every parameter type and distribution, histories with every trial state, and a
small finite space that must end in SearchExhaustedError. They test the contract, not the quality of
the search (that is what ``benchmarks/`` measures).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from suggestions.base import Suggester, labels_of
from suggestions.history import Direction, History, TrialRecord

__all__ = [
    "BUILTIN_PROFILES",
    "CHECKS",
    "CONFORMANCE_SPACE",
    "FINITE_SPACE",
    "Check",
    "Profile",
    "TrialRecord",
    "TrialState",
    "min_distance",
    "objective",
    "profile_for",
    "random_history",
    "run_conformance",
    "space_for",
    "with_trials",
]
from tuner.errors import SearchExhaustedError, SuggestionError
from tuner.space import Assignment, SearchSpace, as_float
from tuner.states import TrialState

# Every parameter type and distribution Katib has; `epochs` doubles as hyperband's resource.
CONFORMANCE_SPACE: list[dict[str, Any]] = [
    {
        "name": "lr",
        "parameterType": "double",
        "feasibleSpace": {"min": "1e-4", "max": "1", "distribution": "logUniform"},
    },
    {"name": "momentum", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}},
    {
        "name": "dropout",
        "parameterType": "double",
        "feasibleSpace": {"min": "0", "max": "0.5", "step": "0.05"},
    },
    {
        "name": "shift",
        "parameterType": "double",
        "feasibleSpace": {"min": "-2", "max": "2", "distribution": "normal"},
    },
    {
        "name": "scale",
        "parameterType": "double",
        "feasibleSpace": {"min": "0.1", "max": "10", "distribution": "logNormal"},
    },
    {"name": "layers", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "8"}},
    {
        "name": "units",
        "parameterType": "int",
        "feasibleSpace": {"min": "16", "max": "512", "distribution": "logUniform"},
    },
    {
        "name": "offset",
        "parameterType": "int",
        "feasibleSpace": {"min": "-5", "max": "5", "step": "2", "distribution": "normal"},
    },
    {"name": "epochs", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "27"}},
    {"name": "batch", "parameterType": "discrete", "feasibleSpace": {"list": ["16", "32", "64", "128"]}},
    {"name": "ratio", "parameterType": "discrete", "feasibleSpace": {"list": ["0.5", "1", "2.5"]}},
    {
        "name": "optimizer",
        "parameterType": "categorical",
        "feasibleSpace": {"list": ["adam", "sgd", "rmsprop"]},
    },
    {"name": "activation", "parameterType": "categorical", "feasibleSpace": {"list": ["relu", "tanh"]}},
]

# 3 x 2 x 3 = 18 points.
FINITE_SPACE: list[dict[str, Any]] = [
    {"name": "x", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "3"}},
    {"name": "c", "parameterType": "categorical", "feasibleSpace": {"list": ["a", "b"]}},
    {"name": "d", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1", "step": "0.5"}},
]

# 3 x 2 x 9 = 54 points, with a resource parameter for hyperband.
FINITE_SPACE_WITH_RESOURCE: list[dict[str, Any]] = [
    {"name": "x", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "3"}},
    {"name": "c", "parameterType": "categorical", "feasibleSpace": {"list": ["a", "b"]}},
    {"name": "epochs", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "9"}},
]


@dataclass(frozen=True)
class Profile:
    """How to run the suite for one algorithm.

    Attributes:
        settings: settings the algorithm needs (``random_state`` is added by the checks that need it).
        space: Katib parameters covering every type and distribution; an algorithm that needs a step on
            every double (grid) gets them added automatically.
        finite_space: a small finite space used up by the exhaustion check.
        covers_finite_space: the algorithm offers every point of a finite space before it is exhausted
            (False for hyperband, which sets the resource to a few values only).
        works_in_rounds: the algorithm may answer fewer than k (even none) while trials still run.
        spreads_batches: a batch's points keep apart from each other and from pending trials (False for
            hyperband, whose rungs re-run the same configurations with more resource).
        rounds: how many sequential suggest calls the longer checks make.
    """

    settings: Mapping[str, str] = field(default_factory=dict)
    space: Sequence[Mapping[str, Any]] = tuple(CONFORMANCE_SPACE)
    finite_space: Sequence[Mapping[str, Any]] = tuple(FINITE_SPACE)
    covers_finite_space: bool = True
    works_in_rounds: bool = False
    spreads_batches: bool = True
    rounds: int = 14


Check = Callable[[Suggester, Profile], None]


# -- helpers ----------------------------------------------------------------------------------------------


def objective(space: SearchSpace, a: Assignment) -> float:
    """A smooth test function on the unit cube with its minimum inside (value in [0, d])."""
    u = space.to_unit(a)
    return float(np.sum((u - 0.3) ** 2) + 0.1 * math.sin(7 * u[0]))


def space_for(suggester: Suggester, profile: Profile, finite: bool = False) -> SearchSpace:
    """The profile's space, with steps added to doubles when the algorithm refuses continuous ones."""
    specs = [dict(p) for p in (profile.finite_space if finite else profile.space)]
    space = SearchSpace.from_dict(specs)
    if suggester.validate(profile.settings, space):
        for p in specs:
            fs = dict(p["feasibleSpace"])
            if p["parameterType"] == "double" and "step" not in fs:
                fs["step"] = repr((float(fs["max"]) - float(fs["min"])) / 8)
                p["feasibleSpace"] = fs
        space = SearchSpace.from_dict(specs)
    problems = suggester.validate(profile.settings, space)
    assert not problems, f"{suggester.name} refuses the conformance space: {problems}"
    return space


def random_history(
    space: SearchSpace, n: int, seed: int = 0, direction: Direction = Direction.MINIMIZE
) -> History:
    """`n` Succeeded trials at random points (not proposed by the algorithm under test)."""
    rng = np.random.default_rng(seed)
    trials = []
    for i in range(n):
        a = space.sample(rng)
        trials.append(TrialRecord(f"r{i}", a, TrialState.SUCCEEDED, objective(space, a)))
    return History(tuple(trials), direction)


def with_trials(history: History, *records: TrialRecord) -> History:
    """`history` with `records` appended."""
    return replace(history, trials=history.trials + records)


def _suggest(
    s: Suggester, space: SearchSpace, settings: Mapping[str, str], history: History, k: int
) -> list[Assignment]:
    out = s.suggest(space, settings, history, k)
    assert isinstance(out, list), f"{s.name}: suggest returned {type(out).__name__}, not a list"
    assert len(out) <= k, f"{s.name}: asked for {k}, got {len(out)}"
    taken = history.assignments()
    for a in out:
        assert isinstance(a, Assignment)
        assert space.contains(a), f"{s.name}: {a} is outside the space: {space.why_not(a)}"
        # pbt repeats points on purpose (a member continues with its parameters from a newer checkpoint)
        assert s.repeats_assignments or a not in taken, (
            f"{s.name}: {a.rendered()} repeats a trial of the history"
        )
    assert s.repeats_assignments or len(set(out)) == len(out), (
        f"{s.name}: the same point twice in one answer: {out}"
    )
    return out


def _run(
    s: Suggester, space: SearchSpace, settings: Mapping[str, str], history: History, rounds: int, k: int
) -> History:
    """Suggest and complete `rounds` times, trials finishing one round after they start."""
    running: list[TrialRecord] = []
    for r in range(rounds):
        done = tuple(
            replace(t, state=TrialState.SUCCEEDED, value=objective(space, t.assignment)) for t in running
        )
        base = replace(history, trials=history.trials + done)
        out = _suggest(s, space, settings, base, k)
        running = [
            TrialRecord(f"t{r}-{i}", a, TrialState.RUNNING, labels=labels_of(a)) for i, a in enumerate(out)
        ]
        history = base  # this round's trials join it as finished ones at the next round (not twice)
    return replace(history, trials=history.trials + tuple(running))


# -- checks -----------------------------------------------------------------------------------------------


def check_validates_its_settings(s: Suggester, profile: Profile) -> None:
    """The profile's settings are valid; an unknown setting is refused by name, in validate and suggest."""
    space = space_for(s, profile)
    bad = {**profile.settings, "no_such_setting": "1"}
    problems = s.validate(bad, space)
    assert any(p.path == "algorithmSettings.no_such_setting" for p in problems), problems
    try:
        s.suggest(space, bad, History(), 1)
    except SuggestionError as exc:
        assert "no_such_setting" in str(exc)
    else:
        raise AssertionError(f"{s.name}: suggest accepted an unknown setting")


def check_first_call_honours_k(s: Suggester, profile: Profile) -> None:
    """With an empty history the algorithm answers exactly k distinct in-space points (k = 1 and 3)."""
    space = space_for(s, profile)
    for k in (1, 3):
        out = _suggest(s, space, profile.settings, History(), k)
        assert len(out) == k, f"{s.name}: asked for {k} on an empty history, got {len(out)}"


def check_sequential_run_stays_in_space(s: Suggester, profile: Profile) -> None:
    """One trial at a time, minimising and maximising: every point inside the space and new."""
    space = space_for(s, profile)
    for direction in Direction:
        history = _run(s, space, profile.settings, History(direction=direction), profile.rounds, 1)
        assert len(history) >= profile.rounds // 2, (
            f"{s.name}: only {len(history)} trials in {profile.rounds} rounds"
        )


def check_parallel_batches_avoid_pending(s: Suggester, profile: Profile) -> None:
    """k = 3 with trials still running: never a pending or running point, never twice in a batch."""
    space = space_for(s, profile)
    history = random_history(space, 6, seed=3)
    history = with_trials(
        history,
        TrialRecord("pending", space.sample(np.random.default_rng(1)), TrialState.CREATED),
        TrialRecord("running", space.sample(np.random.default_rng(2)), TrialState.RUNNING),
    )
    _run(s, space, profile.settings, history, max(3, profile.rounds // 4), 3)


def check_deterministic_with_random_state(s: Suggester, profile: Profile) -> None:
    """With random_state, equal inputs give equal answers, from a warm and from a fresh instance."""
    space = space_for(s, profile)
    settings = {**profile.settings, "random_state": "7"}
    history = with_trials(
        random_history(space, 12, seed=5),
        TrialRecord("running", space.sample(np.random.default_rng(9)), TrialState.RUNNING),
    )
    first = _suggest(s, space, settings, history, 2)
    again = _suggest(s, space, settings, history, 2)
    cold = _suggest(type(s)(), space, settings, history, 2)
    assert first == again, f"{s.name}: two calls with the same inputs differ: {first} != {again}"
    assert first == cold, f"{s.name}: a fresh instance answers differently: {first} != {cold}"
    if not profile.works_in_rounds:
        empty_a = _suggest(s, space, settings, History(), 2)
        empty_b = _suggest(type(s)(), space, settings, History(), 2)
        assert empty_a == empty_b, f"{s.name}: first suggestions differ with the same random_state"


def check_failed_and_odd_trials_are_handled(s: Suggester, profile: Profile) -> None:
    """Failed, killed, metrics-unavailable and early-stopped trials, equal values, huge values."""
    space = space_for(s, profile)
    rng = np.random.default_rng(11)
    odd = [
        TrialRecord("failed", space.sample(rng), TrialState.FAILED),
        TrialRecord("killed", space.sample(rng), TrialState.KILLED),
        TrialRecord("unavailable", space.sample(rng), TrialState.METRICS_UNAVAILABLE),
        TrialRecord("nan", space.sample(rng), TrialState.SUCCEEDED, math.nan),
        TrialRecord("no-value", space.sample(rng), TrialState.SUCCEEDED, None),
        TrialRecord("stopped", space.sample(rng), TrialState.EARLY_STOPPED, 0.5, ((1, 0.9), (2, 0.5))),
    ]
    base = random_history(space, 11, seed=13)
    _suggest(s, space, profile.settings, with_trials(base, *odd), 2)
    only_failures = History(tuple(t for t in odd if not t.observed))
    assert _suggest(s, space, profile.settings, only_failures, 2), f"{s.name}: nothing after failures only"
    flat = History(tuple(replace(t, value=1.0) for t in base.trials))
    _suggest(s, space, profile.settings, flat, 2)
    huge = History(tuple(replace(t, value=(t.value or 0.0) * 1e30) for t in base.trials), Direction.MAXIMIZE)
    _suggest(s, space, profile.settings, huge, 2)
    one = History(base.trials[:1])
    _suggest(s, space, profile.settings, one, 2)


def check_exhaustion_is_signalled(s: Suggester, profile: Profile) -> None:
    """A finite space ends in SearchExhaustedError, after every point when the algorithm covers it."""
    space = space_for(s, profile, finite=True)
    size = space.size
    assert size is not None
    if s.repeats_assignments:
        # Such an algorithm (pbt) revisits points by design and never runs out: only maxTrialCount ends it.
        # What must hold instead: it keeps answering, with points inside the space, long past the space's size.
        history = _run(s, space, profile.settings, History(), 2 * size, 5)
        assert len(history) > size, f"{s.name}: only {len(history)} trials on {size} points"
        return
    history = History()
    for r in range(3 * size):
        try:
            out = _suggest(s, space, profile.settings, history, 5)
        except SearchExhaustedError:
            break
        assert out or profile.works_in_rounds, (
            f"{s.name}: answered nothing without raising SearchExhaustedError"
        )
        done = tuple(
            TrialRecord(f"t{r}-{i}", a, TrialState.SUCCEEDED, objective(space, a)) for i, a in enumerate(out)
        )
        history = with_trials(history, *done)
    else:
        raise AssertionError(f"{s.name}: no SearchExhaustedError after {3 * size} calls on {size} points")
    if profile.covers_finite_space:
        assert len(history) == size, f"{s.name}: exhausted after {len(history)} of {size} points"
    try:
        s.suggest(space, profile.settings, history, 1)
    except SearchExhaustedError:
        pass
    else:
        raise AssertionError(f"{s.name}: a second call after exhaustion did not raise SearchExhaustedError")


# -- batch check (issue 17): k = parallelTrialCount points that are not redundant ----------------------

# Three uniform doubles: distances in the unit cube mean the same for every algorithm.
SPREAD_SPACE: list[dict[str, Any]] = [
    {"name": f"x{i}", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}} for i in range(3)
]

MIN_BATCH_DISTANCE = 0.02
"""Smallest distance (unit cube, 3 dimensions) allowed between two points of a batch or a batch point and
a pending trial. A model that ignores pending trials puts its points within about 1e-3 of each other
(the acquisition's maximum); 8 independent uniform points fall this close with probability about 1e-3."""


def min_distance(
    space: SearchSpace, points: Sequence[Assignment], others: Sequence[Assignment] = ()
) -> float:
    """Smallest distance in the unit cube between two of `points`, or one of `points` and one of `others`."""
    u = [space.to_unit(a) for a in points]
    v = [space.to_unit(a) for a in others]
    best = math.inf
    for i, a in enumerate(u):
        for b in u[i + 1 :] + v:
            best = min(best, float(np.linalg.norm(a - b)))
    return best


def check_batches_are_spread(s: Suggester, profile: Profile) -> None:
    """k = 8 from scratch and k = 4 with a trial pending next to the best point so far: distinct points,
    at least `MIN_BATCH_DISTANCE` apart and from the pending trials, at the start and once modelling."""
    if not profile.spreads_batches:
        return
    space = space_for(s, replace(profile, space=tuple(SPREAD_SPACE)))
    settings = {**profile.settings, "random_state": "5"}
    first = _suggest(s, space, settings, History(), 8)
    assert len(first) == 8, f"{s.name}: asked for 8 on an empty history, got {len(first)}"
    gap = min_distance(space, first)
    assert gap >= MIN_BATCH_DISTANCE, f"{s.name}: first batch of 8 has two points {gap:.2g} apart: {first}"
    history = random_history(space, 14, seed=8)
    best = history.best()
    assert best is not None
    near = space.coerce({p.name: min(1.0, as_float(best.assignment[p.name]) + 0.01) for p in space})
    history = with_trials(history, TrialRecord("pending", near, TrialState.RUNNING))
    batch = _suggest(s, space, settings, history, 4)
    assert len(batch) == 4, f"{s.name}: asked for 4 with one trial pending, got {len(batch)}"
    gap = min_distance(space, batch, [near])
    assert gap >= MIN_BATCH_DISTANCE, (
        f"{s.name}: a batch of 4 with a trial pending next to the best point has points {gap:.2g} apart "
        f"(from each other or the pending trial): {[a.rendered() for a in batch]}"
    )


def objectives(space: SearchSpace, a: Assignment) -> tuple[float, float]:
    """Two conflicting objectives (`objective`, and the distance to another corner) for multi-objective
    checks: their Pareto front is the segment between the two optima."""
    u = space.to_unit(a)
    return objective(space, a), float(np.sum((u - 0.8) ** 2))


def check_multi_objective(s: Suggester, profile: Profile) -> None:
    """Several objectives: an algorithm that declares `multi_objective` runs on a two-objective history
    (sequential and k = 3 with pending trials, one minimised and one maximised objective); any other
    refuses such a history with a SuggestionError that names the algorithm."""
    space = space_for(s, profile)
    directions = (Direction.MINIMIZE, Direction.MAXIMIZE)
    rng = np.random.default_rng(17)
    trials: list[TrialRecord] = []
    for i in range(8):
        a = space.sample(rng)
        first, second = objectives(space, a)
        trials.append(TrialRecord(f"m{i}", a, TrialState.SUCCEEDED, first, values=(first, -second)))
    trials.append(TrialRecord("failed", space.sample(rng), TrialState.FAILED))
    history = History(tuple(trials), directions[0], directions)
    if not s.multi_objective:
        try:
            s.suggest(space, profile.settings, history, 1)
        except SuggestionError as exc:
            assert s.name in str(exc), f"{s.name}: the refusal does not name the algorithm: {exc}"
            return
        raise AssertionError(f"{s.name}: accepted two objectives without declaring multi_objective")
    for k in (1, 3):
        for r in range(max(3, profile.rounds // 4)):
            out = _suggest(s, space, profile.settings, history, k)
            assert out or profile.works_in_rounds, f"{s.name}: nothing suggested for two objectives"
            done = []
            for i, a in enumerate(out):
                first, second = objectives(space, a)
                done.append(
                    TrialRecord(f"k{k}-{r}-{i}", a, TrialState.SUCCEEDED, first, values=(first, -second))
                )
            pending = TrialRecord(f"p{k}-{r}", space.sample(rng), TrialState.RUNNING)
            history = with_trials(history, *done, pending)


CHECKS: tuple[Check, ...] = (
    check_validates_its_settings,
    check_first_call_honours_k,
    check_sequential_run_stays_in_space,
    check_parallel_batches_avoid_pending,
    check_deterministic_with_random_state,
    check_failed_and_odd_trials_are_handled,
    check_exhaustion_is_signalled,
    check_batches_are_spread,
    check_multi_objective,
)

BUILTIN_PROFILES: dict[str, Profile] = {
    "bayesianoptimization": Profile(rounds=12),
    "auto": Profile(rounds=12),
    # generations of 5 so that the sequential checks see two or three of them; a batch is at most one
    # generation, and its later members are deliberate perturbations of their parents (not spread out)
    "pbt": Profile(settings={"n_population": "5"}, works_in_rounds=True, spreads_batches=False, rounds=14),
    "nsga2": Profile(settings={"population_size": "4"}),  # small: the checks reach later generations
    "nsga3": Profile(settings={"population_size": "4"}),
    "hyperband": Profile(
        settings={"r_l": "9", "resource_name": "epochs", "eta": "3"},
        finite_space=tuple(FINITE_SPACE_WITH_RESOURCE),
        covers_finite_space=False,
        works_in_rounds=True,
        spreads_batches=False,
        rounds=20,
    ),
}


def profile_for(name: str) -> Profile:
    """The profile the built-in algorithm `name` runs the suite with."""
    return BUILTIN_PROFILES.get(name, Profile())


def run_conformance(suggester: Suggester, profile: Profile | None = None) -> None:
    """Run every check; raises AssertionError at the first failure."""
    for check in CHECKS:
        check(suggester, profile or profile_for(suggester.name))
