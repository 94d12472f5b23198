"""Several objectives (`spec.objective.objectives`, tuner's extension): accepted and defaulted under
tuner.dev/v1beta1, refused under kubeflow.org/v1beta1 with the fix, and every malformed use named."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from suggestions import check_experiment
from tuner.errors import SpecError
from tuner.spec import ObjectiveType, load_experiment

Problems = Callable[[Any], list[str]]


def two_objectives(doc: dict[str, Any]) -> dict[str, Any]:
    """`doc` under tuner's group with accuracy (max) and latency (min) as objectives."""
    doc["apiVersion"] = "tuner.dev/v1beta1"
    doc["spec"]["objective"] = {
        "objectives": [
            {"metricName": "accuracy", "type": "maximize"},
            {"metricName": "latency", "type": "minimize"},
        ],
        "additionalMetricNames": ["loss"],
    }
    return doc


def test_tuner_group_accepts_and_defaults_the_primary_objective(doc: dict[str, Any]) -> None:
    experiment = load_experiment(two_objectives(doc))
    objective = experiment.spec.objective
    assert objective.is_multi_objective
    assert objective.objective_metric_name == "accuracy" and objective.type is ObjectiveType.MAXIMIZE
    assert objective.directions == [("accuracy", ObjectiveType.MAXIMIZE), ("latency", ObjectiveType.MINIMIZE)]
    assert objective.metric_names == ["accuracy", "latency", "loss"]
    strategies = {s.name: s.value.value for s in objective.metric_strategies or [] if s.value}
    # each objective is kept by its own direction; the additional metric by the primary one's (Katib's rule)
    assert strategies == {"accuracy": "max", "latency": "min", "loss": "max"}
    assert experiment.to_dict()["spec"]["objective"]["objectives"][1] == {
        "metricName": "latency",
        "type": "minimize",
    }


def test_katib_group_refuses_several_objectives_with_the_fix(doc: dict[str, Any], problems: Problems) -> None:
    document = two_objectives(doc)
    document["apiVersion"] = "kubeflow.org/v1beta1"
    lines = problems(document)
    assert len(lines) == 1, lines
    assert lines[0].startswith("spec.objective.objectives: several objectives (2 given)")
    assert "apiVersion: tuner.dev/v1beta1" in lines[0] and "kubeflow.org/v1beta1" in lines[0]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda o: o.update(objectives=o["objectives"][:1]),
            "spec.objective.objectives: lists 1 objective(s); give at least two",
        ),
        (
            lambda o: o["objectives"].append({"metricName": "accuracy", "type": "minimize"}),
            "spec.objective.objectives[2].metricName: duplicate objective 'accuracy' (also objectives[0])",
        ),
        (
            lambda o: o["objectives"][1].pop("type"),
            "spec.objective.objectives[1].type: required: minimize or maximize",
        ),
        (
            lambda o: o["objectives"][1].pop("metricName"),
            "spec.objective.objectives[1].metricName: required",
        ),
        (
            lambda o: o.update(objectiveMetricName="latency"),
            "spec.objective.objectiveMetricName: 'latency' differs from the first objective 'accuracy'",
        ),
        (
            lambda o: o.update(type="minimize"),
            "spec.objective.type: 'minimize' differs from the first objective's type",
        ),
        (
            lambda o: o.update(additionalMetricNames=["latency"]),
            "spec.objective.additionalMetricNames[0]: 'latency' is one of the objectives",
        ),
        (lambda o: o.update(goal=0.9), "spec.objective.goal: 0.9 stops at one metric's value"),
    ],
)
def test_malformed_objectives_are_named(
    doc: dict[str, Any], problems: Problems, change: Callable[[dict[str, Any]], None], expected: str
) -> None:
    document = two_objectives(doc)
    change(document["spec"]["objective"])
    lines = problems(document)
    assert any(line.startswith(expected) for line in lines), lines


def test_early_stopping_is_refused_with_several_objectives(doc: dict[str, Any], problems: Problems) -> None:
    document = two_objectives(doc)
    document["spec"]["earlyStopping"] = {"algorithmName": "medianstop"}
    assert any(
        line.startswith("spec.earlyStopping: early stopping compares one metric")
        for line in problems(document)
    )


@pytest.mark.parametrize("algorithm", ["tpe", "bayesianoptimization", "cmaes", "multivariate-tpe"])
def test_single_objective_algorithms_refuse_several_objectives(doc: dict[str, Any], algorithm: str) -> None:
    document = two_objectives(doc)
    document["spec"]["algorithm"] = {"algorithmName": algorithm}
    with pytest.raises(SpecError) as caught:
        load_experiment(document, extra_checks=[check_experiment])
    assert [p.path for p in caught.value.problems] == ["spec.algorithm.algorithmName"]
    assert f"'{algorithm}' optimises one objective" in str(caught.value)
    assert "nsga2, nsga3, motpe or auto" in str(caught.value)


@pytest.mark.parametrize("algorithm", ["nsga2", "nsga3", "motpe", "auto", "random", "sobol"])
def test_multi_objective_algorithms_accept_several_objectives(doc: dict[str, Any], algorithm: str) -> None:
    document = two_objectives(doc)
    document["spec"]["algorithm"] = {"algorithmName": algorithm}
    assert load_experiment(document, extra_checks=[check_experiment]).spec.algorithm_name == algorithm


def test_the_committed_crd_has_objectives_and_pareto_front() -> None:
    """crds/ is regenerated from the models (tests/spec/test_crd.py keeps it equal to them)."""
    crd = yaml.safe_load((Path(__file__).resolve().parents[2] / "crds" / "experiment.yaml").read_text())
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]
    items = schema["spec"]["properties"]["objective"]["properties"]["objectives"]["items"]
    assert items["properties"]["type"]["enum"] == ["minimize", "maximize"]
    assert "metricName" in items["properties"]
    front = schema["status"]["properties"]["paretoFront"]["items"]["properties"]
    assert {"trialName", "parameterAssignments", "observation"} <= set(front)
