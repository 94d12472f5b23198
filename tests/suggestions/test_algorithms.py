"""Behaviour of each built-in algorithm beyond the shared contract."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from suggestions.history import Direction, History, TrialRecord
from suggestions.registry import builtin_registry
from tuner.errors import SearchExhaustedError
from tuner.space import Assignment, SearchSpace
from tuner.states import TrialState

REGISTRY = builtin_registry()


def _space(*params: dict) -> SearchSpace:
    return SearchSpace.from_dict(list(params))


def _double(name: str, low: str, high: str, **extra: str) -> dict:
    return {"name": name, "parameterType": "double", "feasibleSpace": {"min": low, "max": high, **extra}}


def _int(name: str, low: str, high: str, **extra: str) -> dict:
    return {"name": name, "parameterType": "int", "feasibleSpace": {"min": low, "max": high, **extra}}


def _complete(history: History, points: list[Assignment], f) -> History:  # type: ignore[no-untyped-def]
    n = len(history)
    done = tuple(TrialRecord(f"t{n + i}", a, TrialState.SUCCEEDED, f(a)) for i, a in enumerate(points))
    return replace(history, trials=history.trials + done)


def _minimise(algorithm: str, space: SearchSpace, f, n: int, settings: dict[str, str]) -> float:  # type: ignore[no-untyped-def]
    history = History()
    suggester = REGISTRY.get(algorithm)
    while len(history) < n:
        history = _complete(history, suggester.suggest(space, settings, history, 1), f)
    return min(t.value for t in history.trials if t.value is not None)


# -- grid ---------------------------------------------------------------------------------------------------


def test_grid_visits_every_point_once_in_a_seeded_order() -> None:
    space = _space(_int("n", "1", "4"), _double("x", "0", "1", step="0.25"))
    grid = REGISTRY.get("grid")
    history = History()
    while True:
        try:
            history = _complete(
                history, grid.suggest(space, {"random_state": "3"}, history, 3), lambda a: 0.0
            )
        except SearchExhaustedError:
            break
    points = [t.assignment for t in history.trials]
    assert len(points) == 20 and set(points) == {space.point_at(i) for i in range(20)}
    first = grid.suggest(space, {"random_state": "3"}, History(), 20)
    assert first == points, "the order does not depend on how many points are asked at a time"
    assert grid.suggest(space, {"random_state": "4"}, History(), 20) != points


def test_grid_problems_name_the_step_and_the_budget() -> None:
    grid = REGISTRY.get("grid")
    problems = grid.validate({}, _space(_double("x", "0", "1")))
    assert [str(p) for p in problems] == [
        "parameters[0].feasibleSpace.step: grid needs a step for double parameter 'x'; add feasibleSpace.step (e.g. 0.1)"
    ]
    problems = grid.validate({}, _space(_int("n", "1", "3")), max_trial_count=4)
    assert [p.path for p in problems] == ["maxTrialCount"] and "only 3 points" in problems[0].message


# -- random / sobol --------------------------------------------------------------------------------------------


def test_sobol_continues_its_sequence_across_calls() -> None:
    space = _space(_double("x", "0", "1"), _double("y", "0", "1"))
    sobol = REGISTRY.get("sobol")
    batch = sobol.suggest(space, {"random_state": "2"}, History(), 8)
    history = _complete(History(), batch[:4], lambda a: 0.0)
    assert sobol.suggest(space, {"random_state": "2"}, history, 4) == batch[4:]
    xs = np.array([[a["x"], a["y"]] for a in batch])
    # one point in each half of each axis per 2 points of a Sobol' sequence: balanced quadrants
    assert sorted(((xs[:, 0] > 0.5) * 2 + (xs[:, 1] > 0.5)).tolist()) == [0, 0, 1, 1, 2, 2, 3, 3]


# -- model-based algorithms beat random search on a smooth function --------------------------------------------


@pytest.mark.parametrize("algorithm", ["tpe", "multivariate-tpe", "cmaes", "bayesianoptimization"])
def test_model_based_algorithms_beat_random_on_a_quadratic(algorithm: str) -> None:
    space = _space(*(_double(f"x{i}", "-5", "5") for i in range(4)))
    centre = [1.3, -0.7, 2.0, 0.4]

    def f(a: Assignment) -> float:
        return sum((float(a[f"x{i}"]) - c) ** 2 for i, c in enumerate(centre))

    n, settings = 40, {}
    if algorithm == "bayesianoptimization":  # about 0.3 s per model call: fewer, earlier ones
        n, settings = 25, {"n_initial_points": "5"}
    model = [_minimise(algorithm, space, f, n, {**settings, "random_state": str(seed)}) for seed in range(3)]
    random = [_minimise("random", space, f, n, {"random_state": str(seed)}) for seed in range(3)]
    assert np.median(model) < 0.5 * np.median(random), (model, random)


def test_maximize_is_honoured() -> None:
    space = _space(_double("x", "0", "1"))
    tpe = REGISTRY.get("tpe")
    history = History(direction=Direction.MAXIMIZE)
    for _ in range(30):
        history = _complete(
            history, tpe.suggest(space, {"random_state": "1"}, history, 1), lambda a: float(a["x"])
        )
    late = [float(t.assignment["x"]) for t in history.trials[-10:]]
    assert np.mean(late) > 0.75


# -- bayesianoptimization ------------------------------------------------------------------------------------


def test_bayesianoptimization_keeps_uniform_priors_on_negative_ranges() -> None:
    """Katib's skopt service forced log-uniform priors, which broke on negative ranges (#1037)."""
    space = _space(_double("x", "-3", "-1"), _double("lr", "1e-4", "1", distribution="logUniform"))
    bo = REGISTRY.get("bayesianoptimization")
    history = History()
    for _ in range(12):
        history = _complete(
            history, bo.suggest(space, {"random_state": "0"}, history, 1), lambda a: (float(a["x"]) + 2) ** 2
        )
    assert all(-3 <= t.assignment["x"] <= -1 for t in history.trials)


def test_bayesianoptimization_refuses_time_weighted_acquisitions() -> None:
    problems = REGISTRY.get("bayesianoptimization").validate(
        {"acq_func": "EIps"}, _space(_double("x", "0", "1"))
    )
    assert [p.path for p in problems] == ["algorithmSettings.acq_func"] and "use EI or PI" in problems[
        0
    ].message


# -- cmaes ----------------------------------------------------------------------------------------------------


def test_cmaes_needs_two_numeric_parameters() -> None:
    space = _space(
        _double("x", "0", "1"),
        {"name": "c", "parameterType": "categorical", "feasibleSpace": {"list": ["a", "b"]}},
    )
    problems = REGISTRY.get("cmaes").validate({}, space)
    assert [p.path for p in problems] == ["parameters"]


@pytest.mark.parametrize("strategy", ["ipop", "bipop"])
def test_cmaes_restarts_keep_proposing(strategy: str) -> None:
    space = _space(_double("x", "-1", "1"), _double("y", "-1", "1"))
    best = _minimise(
        "cmaes",
        space,
        lambda a: abs(float(a["x"])) + abs(float(a["y"])),
        150,
        {"random_state": "0", "restart_strategy": strategy, "sigma": "0.3"},
    )
    assert best < 0.05


# -- hyperband ------------------------------------------------------------------------------------------------

HB_SPACE = _space(_double("lr", "0.001", "1", distribution="logUniform"), _int("epochs", "1", "27"))
HB_SETTINGS = {"r_l": "9", "resource_name": "epochs", "random_state": "0"}


def _hb_loss(a: Assignment) -> float:
    return abs(math.log10(float(a["lr"])) + 1.5) + 1.0 / int(a["epochs"])


def test_hyperband_runs_brackets_of_successive_halving() -> None:
    hb = REGISTRY.get("hyperband")
    history = History()
    epochs: list[int] = []
    while len(history) < 9 + 3 + 1 + 5 + 2 + 3 + 9:
        out = hb.suggest(HB_SPACE, HB_SETTINGS, history, 50)
        epochs += [int(a["epochs"]) for a in out]
        history = _complete(history, out, _hb_loss)
    assert epochs == [1] * 9 + [3] * 3 + [9] + [3] * 5 + [9] * 2 + [9] * 3 + [1] * 9
    first_rung = sorted(history.trials[:9], key=lambda t: t.value or 0.0)
    promoted = {t.assignment["lr"] for t in history.trials[9:12]}
    assert promoted == {t.assignment["lr"] for t in first_rung[:3]}
    assert (
        history.trials[12].assignment["lr"]
        == min(history.trials[9:12], key=lambda t: t.value or 0.0).assignment["lr"]
    )


def test_hyperband_waits_for_the_rung_and_ranks_failures_last() -> None:
    hb = REGISTRY.get("hyperband")
    first = hb.suggest(HB_SPACE, HB_SETTINGS, History(), 9)
    running = History(tuple(TrialRecord(f"t{i}", a, TrialState.RUNNING) for i, a in enumerate(first)))
    assert hb.suggest(HB_SPACE, HB_SETTINGS, running, 3) == []
    trials = [replace(t, state=TrialState.SUCCEEDED, value=_hb_loss(t.assignment)) for t in running.trials]
    trials[0] = replace(trials[0], state=TrialState.FAILED, value=None)
    out = hb.suggest(HB_SPACE, HB_SETTINGS, History(tuple(trials)), 3)
    assert len(out) == 3 and all(a["epochs"] == 3 for a in out)
    assert first[0]["lr"] not in {a["lr"] for a in out} or sorted(t.value or 9 for t in trials[1:])[2] is None


def test_hyperband_settings_are_checked() -> None:
    hb = REGISTRY.get("hyperband")
    assert [p.path for p in hb.validate({}, HB_SPACE)] == [
        "algorithmSettings.r_l",
        "algorithmSettings.resource_name",
    ]
    assert "not a parameter" in str(hb.validate({"r_l": "9", "resource_name": "steps"}, HB_SPACE)[0])
    # Katib's rules (its hyperband service's ValidateAlgorithmSettings), not the resource's range
    assert hb.validate({"r_l": "81", "resource_name": "epochs"}, HB_SPACE, parallel_trial_count=81) == []
    [too_few] = hb.validate({"r_l": "9", "resource_name": "epochs"}, HB_SPACE, parallel_trial_count=8)
    assert too_few.path == "parallelTrialCount" and "must be at least 9" in too_few.message
    # eta is read as int(eta) for this rule: 2.5 -> 2, so r_l 8 needs 2^3 = 8 trials at once
    assert (
        hb.validate({"r_l": "8", "resource_name": "epochs", "eta": "2.5"}, HB_SPACE, parallel_trial_count=8)
        == []
    )
    assert (
        hb.validate({"r_l": "9", "resource_name": "epochs", "eta": "-1"}, HB_SPACE, parallel_trial_count=9)
        == []
    )
    [eta] = hb.validate({"r_l": "9", "resource_name": "epochs", "eta": "1.5"}, HB_SPACE)
    assert eta.path == "algorithmSettings.eta" and "at least 2" in eta.message
    [small] = hb.validate({"r_l": "0.2", "resource_name": "epochs"}, HB_SPACE)
    assert small.path == "algorithmSettings.r_l" and "no bracket" in small.message


def test_hyperband_resource_goes_beyond_its_parameter_range_as_in_katib() -> None:
    """Katib's example fixes num-epochs to [1, 1] with r_l 2, eta 2: rungs get 1, then 2 epochs."""
    hb = REGISTRY.get("hyperband")
    space = _space(_double("lr", "0.01", "0.03"), _int("num-epochs", "1", "1"))
    settings = {"r_l": "2", "eta": "2", "resource_name": "num-epochs", "random_state": "3"}
    assert hb.validate(settings, space, parallel_trial_count=2) == []
    history = History()
    epochs: list[int] = []
    while len(history) < 2 + 1 + 2:
        out = hb.suggest(space, settings, history, 2)
        epochs += [int(a["num-epochs"]) for a in out]
        history = _complete(history, out, lambda a: float(a["lr"]) / int(a["num-epochs"]))
    assert epochs == [1, 1, 2, 2, 2]  # bracket s=1: 2 configs at 1 epoch, the best at 2; bracket s=0: 2 at 2
    # the HTTP service reads such a history back (the resource outside its range is the algorithm's own)
    from suggestions.protocol import SuggestBody, suggest_assignments

    body = SuggestBody(
        algorithm="hyperband",
        settings=settings,
        parameters=space.to_dict(),
        history=history.to_dict(),
        count=2,
    )
    assert [int(a["num-epochs"]) for a in suggest_assignments(body, REGISTRY)] == [1, 1]


# -- tpe starts quasi-randomly -------------------------------------------------------------------------------


def test_tpe_starts_with_the_sobol_sequence_then_models() -> None:
    space = _space(*(_double(f"x{i}", "0", "1") for i in range(3)))  # d + 2 = 5 start points
    settings = {"random_state": "4"}
    history = History()
    for _ in range(5):
        history = _complete(history, REGISTRY.get("tpe").suggest(space, settings, history, 1), lambda a: 0.0)
    sobol = REGISTRY.get("sobol").suggest(space, settings, History(), 5)
    assert [t.assignment for t in history.trials] == sobol, "the start is the experiment's Sobol' points"
    after = REGISTRY.get("tpe").suggest(space, settings, history, 1)
    assert after != REGISTRY.get("sobol").suggest(space, settings, history, 1), "then TPE takes over"


# -- suggestions compute on one thread ----------------------------------------------------------------------


def test_algorithms_propose_on_one_blas_thread() -> None:
    """BLAS pools are limited to one thread while an algorithm proposes, and restored afterwards."""
    from threadpoolctl import threadpool_info

    from suggestions.base import Suggester, SuggestRequest
    from suggestions.settings import SettingsSchema

    seen: list[int] = []

    class Probe(Suggester):
        name = "probe"
        settings_schema = SettingsSchema()

        def propose(self, request: SuggestRequest) -> list[Assignment]:
            seen.extend(pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas")
            return [request.space.sample(request.rng)]

    before = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
    Probe().suggest(_space(_double("x", "0", "1")), {}, History(), 1)
    assert seen and set(seen) == {1}
    assert [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"] == before
