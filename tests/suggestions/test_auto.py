"""`auto`: its plan by space and budget, its quasi-random start, and its fallback without torch."""

from __future__ import annotations

import numpy as np
import pytest

from suggestions import auto, testing
from suggestions.history import History
from suggestions.registry import builtin_registry
from tuner.errors import SearchExhaustedError
from tuner.space import SearchSpace

AUTO = builtin_registry().get("auto")


def _doubles(n: int) -> SearchSpace:
    return SearchSpace.from_dict(
        [
            {"name": f"x{i}", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}
            for i in range(n)
        ]
    )


FINITE = SearchSpace.from_dict(
    [
        {"name": "n", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "4"}},
        {"name": "c", "parameterType": "categorical", "feasibleSpace": {"list": ["a", "b", "c"]}},
    ]
)


def test_plan_by_space_and_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auto, "HAS_TORCH", True)
    assert auto.plan(_doubles(2), {}, 0, None) == auto.Plan("sobol", 5)
    assert auto.plan(_doubles(6), {}, 7, None) == auto.Plan("sobol", 8)
    assert auto.plan(_doubles(6), {}, 8, 100).method == "gp"
    late = [auto.plan(_doubles(6), {}, n, None).method for n in range(auto.MIX_AFTER, auto.MIX_AFTER + 8)]
    assert late.count("tpe") == 2 and late.count("gp") == 6, "one in four from TPE after MIX_AFTER"
    assert auto.plan(_doubles(6), {}, auto.MIX_AFTER - 1, None).method == "gp"
    assert auto.plan(_doubles(12), {}, 3, None).startup == 10
    assert auto.plan(_doubles(21), {}, 50, None).method == "tpe", "many parameters: TPE"
    assert auto.plan(_doubles(3), {"n_startup_trials": 2}, 2, None).method == "gp"
    assert auto.plan(FINITE, {}, 0, 12).method == "grid", "12 points, budget 12: enumerate"
    assert auto.plan(FINITE, {}, 0, 11).method == "sobol"
    monkeypatch.setattr(auto, "HAS_TORCH", False)
    assert auto.plan(_doubles(6), {}, 8, 100).method == "tpe", "no torch: TPE"


def test_starts_with_the_sobol_sequence_whatever_the_batch_size() -> None:
    space = _doubles(3)
    settings = {"random_state": "4"}
    at_once = AUTO.suggest(space, settings, History(), 5)
    history = History()
    one_by_one = []
    for i in range(5):
        (a,) = AUTO.suggest(space, settings, history, 1)
        one_by_one.append(a)
        history = testing.with_trials(
            history, testing.TrialRecord(f"t{i}", a, testing.TrialState.SUCCEEDED, float(i))
        )
    assert at_once == one_by_one


def test_small_finite_space_within_budget_is_enumerated() -> None:
    history = History()
    seen = []
    while True:
        try:
            out = AUTO.suggest(FINITE, {"random_state": "1"}, history, 5, budget=12)
        except SearchExhaustedError:
            break
        seen += out
        done = [
            testing.TrialRecord(f"t{len(seen)}-{i}", a, testing.TrialState.SUCCEEDED, 0.0)
            for i, a in enumerate(out)
        ]
        history = testing.with_trials(history, *done)
    assert len(seen) == 12 and len(set(seen)) == 12


def test_keep_informative_keeps_the_best_the_recent_and_the_pending() -> None:
    space = _doubles(2)
    history = testing.random_history(space, 30, seed=1)
    pending = testing.TrialRecord("p", space.sample(np.random.default_rng(0)), testing.TrialState.RUNNING)
    history = testing.with_trials(history, pending)
    kept = history.keep_informative(10)
    observed = kept.observed
    assert len(observed) == 10 and pending in kept.trials
    best = sorted(history.observed, key=history.loss)[:5]
    assert all(t in observed for t in best)
    assert history.observed[-1] in observed


@pytest.mark.parametrize(
    "check", [testing.check_sequential_run_stays_in_space, testing.check_deterministic_with_random_state]
)
def test_without_torch_auto_still_conforms(monkeypatch: pytest.MonkeyPatch, check: testing.Check) -> None:
    monkeypatch.setattr(auto, "HAS_TORCH", False)
    check(AUTO, testing.profile_for("auto"))
