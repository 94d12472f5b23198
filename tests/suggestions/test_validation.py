"""check_experiment: algorithm problems of an experiment, with Katib field paths.

The Experiment model belongs to tuner.spec; these tests use a small stand-in with the same attribute
names (any object shaped like it is accepted).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from suggestions.validation import check_experiment
from tuner.spec.parameters import ParameterSpec


@dataclass
class Setting:
    name: str
    value: str


@dataclass
class Algorithm:
    algorithm_name: str
    algorithm_settings: list[Setting] = field(default_factory=list)


@dataclass
class Spec:
    algorithm: Algorithm
    parameters: list[Any]
    max_trial_count: int | None = 12
    parallel_trial_count: int = 3


@dataclass
class Experiment:
    spec: Spec


PARAMETERS = [
    ParameterSpec.model_validate(
        {"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.01", "max": "0.1"}}
    ),
    ParameterSpec.model_validate(
        {"name": "epochs", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "27"}}
    ),
]


def _check(name: str, settings: dict[str, str] | None = None, **spec: Any) -> list[str]:
    algorithm = Algorithm(name, [Setting(k, v) for k, v in (settings or {}).items()])
    return [
        str(p)
        for p in check_experiment(Experiment(Spec(algorithm, spec.pop("parameters", PARAMETERS), **spec)))
    ]


def test_a_valid_experiment_has_no_problems() -> None:
    assert _check("tpe", {"gamma": "0.3", "n_EI_candidates": "12"}) == []
    assert _check("hyperband", {"r_l": "9", "resource_name": "epochs"}, parallel_trial_count=9) == []


def test_unknown_algorithm_suggests_the_closest_name() -> None:
    (problem,) = _check("bayesian-optimization")
    assert problem.startswith(
        "spec.algorithm.algorithmName: unknown algorithm 'bayesian-optimization'; did you mean 'bayesianoptimization'?"
    )


def test_settings_problems_point_at_the_list_entry() -> None:
    problems = _check("tpe", {"random_state": "7", "gamma": "2", "n_ei_candidates": "5"})
    assert problems == [
        "spec.algorithm.algorithmSettings[1].value: gamma: must be a number in (0, 1) (got '2')",
        "spec.algorithm.algorithmSettings[2].name: n_ei_candidates: unknown setting; did you mean 'n_EI_candidates'? "
        "(known: gamma, n_EI_candidates, prior_weight, random_state)",
    ]


def test_missing_required_setting_and_repeated_names() -> None:
    algorithm = Algorithm("hyperband", [Setting("r_l", "9"), Setting("r_l", "3")])
    problems = [str(p) for p in check_experiment(Experiment(Spec(algorithm, PARAMETERS)))]
    assert problems == [
        "spec.algorithm.algorithmSettings[1].name: 'r_l' is set twice (also at [0])",
        "spec.algorithm.algorithmSettings: resource_name: is required: the parameter that carries the resource",
    ]


def test_grid_needs_steps_and_enough_points() -> None:
    assert _check("grid") == [
        "spec.parameters[0].feasibleSpace.step: grid needs a step for double parameter 'lr'; add feasibleSpace.step (e.g. 0.009)"
    ]
    stepped = [
        ParameterSpec.model_validate(
            {
                "name": "lr",
                "parameterType": "double",
                "feasibleSpace": {"min": "0.01", "max": "0.05", "step": "0.01"},
            }
        ),
        ParameterSpec.model_validate(
            {"name": "opt", "parameterType": "categorical", "feasibleSpace": {"list": ["a", "b"]}}
        ),
    ]
    assert _check("grid", parameters=stepped, max_trial_count=10) == []
    assert _check("grid", parameters=stepped, max_trial_count=11) == [
        "spec.maxTrialCount: is 11 but the grid has only 10 points; set maxTrialCount to at most 10 or add values to the grid"
    ]


def test_dict_shaped_experiments_and_unreadable_parameters() -> None:
    algorithm = {"algorithmName": "cmaes", "algorithmSettings": [{"name": "sigma", "value": "0"}]}
    spec = Spec(
        algorithm, [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "a", "max": "1"}}]
    )  # type: ignore[arg-type]
    assert check_experiment(Experiment(spec)) == [], "parameter problems are the spec's to report"
    spec.parameters = PARAMETERS
    assert [p.path for p in check_experiment(Experiment(spec))] == [
        "spec.algorithm.algorithmSettings[0].value"
    ]


def test_missing_algorithm_name() -> None:
    (problem,) = _check("")
    assert problem.startswith("spec.algorithm.algorithmName: is required; name one of")
