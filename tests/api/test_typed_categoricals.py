"""Categorical choices keep their Python types from `tuner.search.categorical` to the objective, the
algorithms' history and the result, on both stores; Katib files keep Katib's strings."""

from __future__ import annotations

from typing import Any

import pytest

import tuner
from suggestions import Direction, History, TrialRecord, get_suggester
from tuner.errors import SpecError
from tuner.space import Assignment, SearchSpace
from tuner.spec import load_experiment
from tuner.states import ExperimentState, TrialState

CHOICES: dict[str, list[Any]] = {
    "batch": [16, 32],
    "bn": [True, False],
    "other": [None, "adam", 0.5],
}
SPACE = {name: tuner.search.categorical(values) for name, values in CHOICES.items()}


def typed(params: dict[str, Any]) -> float:
    """Fails the trial unless every value is one of the choices, with the choice's own type."""
    for name, values in CHOICES.items():
        value = params[name]
        assert any(type(value) is type(v) and value == v for v in values), (name, value)
    return params["batch"] / 32 + (1.0 if params["bn"] else 0.0)


def _types(params: dict[str, Any] | None) -> dict[str, type]:
    return {k: type(v) for k, v in (params or {}).items()}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_categorical_choices_keep_their_types_and_resume_by_name(
    backend: str, sqlite_url: str, postgres_url: str
) -> None:
    store = sqlite_url if backend == "sqlite" else postgres_url
    result = tuner.tune(typed, SPACE, name="typed", algorithm_name="grid", max_trial_count=12, store=store)
    assert result.state == ExperimentState.SUCCEEDED, result.reason
    assert all(t.state == TrialState.SUCCEEDED for t in result.trials)
    # grid saw typed history: every one of the 2 * 2 * 3 points once
    points = {tuple(sorted(_types(t.parameters).items(), key=str)) for t in result.trials}
    assert len({tuple(t.parameters.items()) for t in result.trials}) == 12 and len(points) >= 3
    assert result.best_parameters is not None
    assert result.best_parameters["batch"] == 32 and result.best_parameters["bn"] is True
    again = tuner.tune(typed, SPACE, name="typed", algorithm_name="grid", max_trial_count=12, store=store)
    assert again.state == ExperimentState.SUCCEEDED and len(again.trials) == 12
    assert again.best_parameters == result.best_parameters
    assert _types(again.best_parameters) == _types(result.best_parameters)


@pytest.mark.parametrize("algorithm", ["random", "tpe", "bayesianoptimization", "sobol", "hyperband"])
def test_algorithms_propose_typed_choices(algorithm: str) -> None:
    params = [
        {"name": n, **tuner.search.categorical(v).model_dump(mode="json", by_alias=True, exclude={"name"})}
        for n, v in CHOICES.items()
    ]
    if algorithm == "hyperband":
        params.append({"name": "epochs", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "9"}})
    space = SearchSpace.from_dict(params)
    old = [
        Assignment(
            {"batch": 16, "bn": False, "other": None, **({"epochs": 1} if algorithm == "hyperband" else {})}
        )
    ]
    history = History(
        tuple(TrialRecord(f"t{i}", a, TrialState.SUCCEEDED, 0.5) for i, a in enumerate(old)),
        Direction.MAXIMIZE,
    )
    settings = {"resource_name": "epochs", "eta": "3", "r_l": "9"} if algorithm == "hyperband" else {}
    for a in get_suggester(algorithm).suggest(space, settings, history, 3, budget=20):
        assert space.contains(a), a
        for name, values in CHOICES.items():
            assert any(type(a[name]) is type(v) and a[name] == v for v in values), (name, a[name])
    # the HTTP form of the history (text) parses back to the same typed assignments
    assert History.from_dict(history.to_dict(), space) == history


def test_the_space_parses_stored_text_back_to_the_choice() -> None:
    space = SearchSpace.from_dict(
        [
            {
                "name": "c",
                "parameterType": "categorical",
                "feasibleSpace": {"list": [16, True, None, "16x", 0.5]},
            }
        ]
    )
    parameter = space["c"]
    for value in (16, True, None, "16x", 0.5):
        text = parameter.render(value)
        back = space.parse({"c": text})["c"]
        assert back == value and type(back) is type(value)
    assert not parameter.contains("16") and not parameter.contains(1) and parameter.contains(True)


@pytest.mark.parametrize(
    ("choices", "message"),
    [
        ([16, "16"], r"list\[1\]: duplicate value '16' \(also list\[0\]\)"),
        ([1, True], r"list\[1\]: duplicate value 'True' \(also list\[0\]\)"),
        ([float("nan")], r"list\[0\]: nan is not a finite number"),
    ],
)
def test_choices_that_cannot_come_back_as_themselves_are_refused(choices: list[Any], message: str) -> None:
    with pytest.raises(SpecError, match=message):
        tuner.tune(typed, {"c": tuner.search.categorical(choices)}, max_trial_count=1, store="sqlite://")


def test_a_choice_of_another_type_is_refused_at_once() -> None:
    with pytest.raises(TypeError, match=r"categorical choice \[1\] \[1, 2\] is a list"):
        tuner.search.categorical(["a", [1, 2]])


def test_katib_files_keep_strings_and_refuse_unquoted_booleans() -> None:
    text = """
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: strings}
spec:
  objective: {type: maximize, objectiveMetricName: accuracy}
  algorithm: {algorithmName: random}
  parameters:
    - {name: batch, parameterType: categorical, feasibleSpace: {list: ["16", 32]}}
    - {name: bn, parameterType: categorical, feasibleSpace: {list: [LIST]}}
  trialTemplate:
    primaryContainerName: main
    trialParameters: [{name: batch, reference: batch}, {name: bn, reference: bn}]
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            containers:
              - {name: main, image: x, command: [echo, "${trialParameters.batch}", "${trialParameters.bn}"]}
"""
    experiment = load_experiment(text.replace("LIST", '"true", "false"'))
    assert [p.feasible_space.list_ for p in experiment.spec.parameters or []] == [
        ["16", "32"],
        ["true", "false"],
    ]
    with pytest.raises(SpecError, match=r"list\[0\]: expected text, got true \(YAML reads unquoted"):
        load_experiment(text.replace("LIST", "yes, no"))
