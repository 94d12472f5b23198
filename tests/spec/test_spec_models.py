"""The models: Katib's shape, round trips, and the accessors the controller relies on."""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from tuner.spec import (
    AlgorithmSpec,
    CollectorKind,
    Experiment,
    ExperimentSpec,
    ExperimentStatus,
    FeasibleSpace,
    MetricStrategyType,
    ObjectiveSpec,
    ObjectMeta,
    ParameterSpec,
    ParameterType,
    Trial,
    TrialParameterSpec,
    TrialTemplate,
    apply_defaults,
    dump_experiment,
    load_experiment,
    validate_experiment,
)


def test_to_dict_round_trips_by_alias_without_none(doc: dict[str, Any]) -> None:
    experiment = load_experiment(doc)
    out = experiment.to_dict()
    assert out["spec"]["trialTemplate"]["primaryContainerName"] == "main"
    assert "primary_container_name" not in str(out)
    assert None not in _leaves(out)
    assert load_experiment(out) == experiment


def test_ints_stay_ints_and_katib_numbers_stay_text(doc: dict[str, Any]) -> None:
    doc["spec"]["parameters"][1]["feasibleSpace"] = {"min": 1, "max": 8, "step": 1}
    doc["spec"]["parameters"][0]["feasibleSpace"] = {"min": 0.00001, "max": 0.5}
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["backoffLimit"] = 0
    out = load_experiment(doc).to_dict()
    assert out["spec"]["maxTrialCount"] == 6 and isinstance(out["spec"]["maxTrialCount"], int)
    assert out["spec"]["parameters"][1]["feasibleSpace"] == {
        "min": "1",
        "max": "8",
        "step": "1",
        "distribution": "uniform",
    }
    assert out["spec"]["parameters"][0]["feasibleSpace"]["min"] == "1e-05"
    assert out["spec"]["trialTemplate"]["trialSpec"]["spec"]["backoffLimit"] == 0


def test_workload_is_kept_exactly_including_nulls(doc: dict[str, Any]) -> None:
    container = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["resources"] = {"limits": {"nvidia.com/gpu": 1}, "requests": None}
    container["x-anything"] = [{"deep": [1, 2.5, True, None]}]
    out = load_experiment(doc).to_dict()
    assert out["spec"]["trialTemplate"]["trialSpec"] == doc["spec"]["trialTemplate"]["trialSpec"]


def test_yaml_and_json_dumps_load_back_equal(doc: dict[str, Any]) -> None:
    experiment = load_experiment(doc)
    assert load_experiment(dump_experiment(experiment, "yaml")) == experiment
    assert load_experiment(dump_experiment(experiment, "json")) == experiment
    with pytest.raises(ValueError, match="fmt must be"):
        dump_experiment(experiment, "toml")  # type: ignore[arg-type]


def test_kubectl_metadata_is_accepted_and_kept(doc: dict[str, Any]) -> None:
    doc["metadata"].update(
        {
            "uid": "0b3c",
            "resourceVersion": "42",
            "generation": 3,
            "creationTimestamp": "2024-03-04T10:11:12Z",
            "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}],
            "finalizers": ["update-prometheus-metrics"],
            "selfLink": "/apis/kubeflow.org/v1beta1/namespaces/kubeflow/experiments/base",
        }
    )
    out = load_experiment(doc).to_dict()
    assert out["metadata"] == doc["metadata"]


def test_yaml_timestamps_stay_text(doc: dict[str, Any]) -> None:
    text = yaml.safe_dump(doc).replace(
        "  name: base\n", "  name: base\n  creationTimestamp: 2024-03-04T10:11:12Z\n"
    )
    experiment = load_experiment(text)
    assert experiment.metadata.creation_timestamp == "2024-03-04T10:11:12Z"
    assert experiment.to_dict()["metadata"]["creationTimestamp"] == "2024-03-04T10:11:12Z"


def test_status_parses_in_katib_shape_and_prints_times_in_utc(doc: dict[str, Any]) -> None:
    doc["status"] = {
        "startTime": "2024-03-04T10:11:12Z",
        "conditions": [
            {
                "type": "Running",
                "status": True,
                "reason": "ExperimentRunning",
                "lastUpdateTime": "2024-03-04T11:11:12+01:00",
            }
        ],
        "currentOptimalTrial": {
            "bestTrialName": "base-x7",
            "parameterAssignments": [{"name": "lr", "value": 0.05}],
            "observation": {"metrics": [{"name": "accuracy", "min": "0.5", "max": 0.9, "latest": "0.85"}]},
        },
        "runningTrialList": ["base-x7"],
        "trials": 1,
        "trialsRunning": 1,
        "someFieldOfANewerKatib": {"kept": True},
    }
    experiment = load_experiment(doc)
    status = experiment.status
    assert isinstance(status, ExperimentStatus)
    assert status.start_time == datetime(2024, 3, 4, 10, 11, 12, tzinfo=timezone.utc)
    running = status.condition("Running")
    assert running is not None and running.status == "True"
    assert status.current_optimal_trial is not None
    assert status.current_optimal_trial.parameter_assignments[0].value == "0.05"  # type: ignore[index]
    out = experiment.to_dict()["status"]
    assert out["conditions"][0]["lastUpdateTime"] == "2024-03-04T10:11:12Z"
    assert out["currentOptimalTrial"]["observation"]["metrics"][0]["max"] == "0.9"
    assert out["someFieldOfANewerKatib"] == {"kept": True}
    assert out["trials"] == 1


def test_status_accepts_kubectls_null_metrics(doc: dict[str, Any]) -> None:
    doc["status"] = {"currentOptimalTrial": {"bestTrialName": "", "observation": {"metrics": None}}}
    assert load_experiment(doc).status is not None


def test_name_and_namespace_accessors(doc: dict[str, Any]) -> None:
    experiment = load_experiment(doc)
    assert (experiment.name, experiment.namespace) == ("base", "kubeflow")
    del doc["metadata"]["namespace"]
    assert load_experiment(doc).namespace == "default"


def test_strategy_for_uses_explicit_entries_then_katibs_default() -> None:
    objective = ObjectiveSpec.model_validate(
        {
            "type": "minimize",
            "objectiveMetricName": "loss",
            "additionalMetricNames": ["accuracy", "f1"],
            "metricStrategies": [{"name": "accuracy", "value": "max"}],
        }
    )
    assert objective.strategy_for("accuracy") is MetricStrategyType.MAX
    assert objective.strategy_for("loss") == "min"
    assert objective.strategy_for("f1") == "min"  # Katib's code: the objective's direction for every metric
    assert ObjectiveSpec().strategy_for("x") == "latest"
    assert objective.metric_names == ["loss", "accuracy", "f1"]


def _template(trial_spec: dict[str, Any], name: str) -> TrialTemplate:
    return TrialTemplate.model_validate({"primaryContainerName": name, "trialSpec": trial_spec})


def _pod(*names: str) -> dict[str, Any]:
    return {"spec": {"containers": [{"name": n, "image": "i"} for n in names]}}


def test_primary_container_of_a_job() -> None:
    template = _template(
        {"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": _pod("sidecar", "main")}}, "main"
    )
    container = template.primary_container()
    assert container is not None and container["name"] == "main"
    assert container is template.trial_spec["spec"]["template"]["spec"]["containers"][1]  # type: ignore[index]


@pytest.mark.parametrize(
    ("kind", "replicas"), [("PyTorchJob", "pytorchReplicaSpecs"), ("TFJob", "tfReplicaSpecs")]
)
def test_primary_container_of_a_kubeflow_training_job(kind: str, replicas: str) -> None:
    body = {
        "apiVersion": "kubeflow.org/v1",
        "kind": kind,
        "spec": {
            replicas: {
                "Master": {"replicas": 1, "template": _pod("trainer")},
                "Worker": {"template": _pod("w")},
            }
        },
    }
    container = _template(body, "w").primary_container()
    assert container is not None and container["name"] == "w"
    assert _template(body, "missing").primary_container() is None


def test_primary_container_of_other_kinds_is_searched() -> None:
    workflow = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "spec": {
            "templates": [
                {"name": "a", "steps": []},
                {"name": "b", "container": {"name": "main", "image": "i"}},
            ]
        },
    }
    container = _template(workflow, "main").primary_container()
    assert container is not None and container["image"] == "i"
    deployment_like = {"apiVersion": "x/v1", "kind": "Thing", "spec": {"deep": {"template": _pod("c1")}}}
    found = _template(deployment_like, "c1").primary_container()
    assert found is not None and found["name"] == "c1"


def test_metrics_collector_kind_defaults_to_stdout(doc: dict[str, Any]) -> None:
    assert Experiment.model_validate(doc).spec.metrics_collector_kind is CollectorKind.STDOUT
    doc["spec"]["metricsCollectorSpec"] = {"collector": {"kind": "Push"}}
    assert load_experiment(doc).spec.metrics_collector_kind is CollectorKind.PUSH


def test_placeholders_lists_every_use_with_its_path(doc: dict[str, Any]) -> None:
    template = load_experiment(doc).spec.trial_template
    found = list(template.placeholders())
    assert found[0] == ("spec.template.spec.containers[0].command[2]", "learningRate")
    assert [name for _, name in found] == ["learningRate", "layers", "optimizer"]


def test_unknown_spec_fields_are_refused_by_the_model(doc: dict[str, Any]) -> None:
    doc["spec"]["trialTemplate"]["retainRun"] = True
    with pytest.raises(ValidationError):
        Experiment.model_validate(doc)


def test_trial_model_round_trips() -> None:
    document = {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Trial",
        "metadata": {
            "name": "base-x7",
            "namespace": "kubeflow",
            "labels": {"katib.kubeflow.org/experiment": "base"},
        },
        "spec": {
            "objective": {"type": "maximize", "objectiveMetricName": "accuracy"},
            "parameterAssignments": [{"name": "lr", "value": "0.05"}, {"name": "layers", "value": 3}],
            "earlyStoppingRules": [
                {"name": "accuracy", "value": "0.6", "comparison": "less", "startStep": 4}
            ],
            "runSpec": {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "base-x7"}},
            "retainRun": False,
            "metricsCollector": {"collector": {"kind": "StdOut"}},
            "primaryContainerName": "main",
            "successCondition": "status.ok",
            "failureCondition": "status.failed",
            "labels": {"a": "b"},
        },
        "status": {
            "startTime": "2024-03-04T10:11:12Z",
            "completionTime": "2024-03-04T10:12:13.250000Z",
            "conditions": [{"type": "Succeeded", "status": "True", "reason": "TrialSucceeded"}],
            "observation": {"metrics": [{"name": "accuracy", "min": "0.5", "max": "0.9", "latest": "0.8"}]},
        },
    }
    trial = Trial.model_validate(document)
    assert trial.name == "base-x7"
    assert trial.spec.assignments() == {"lr": "0.05", "layers": "3"}
    assert trial.status is not None and trial.status.condition("Succeeded") is not None
    expected = copy.deepcopy(document)
    expected["spec"]["parameterAssignments"][1]["value"] = "3"  # type: ignore[index]
    assert trial.to_dict() == expected


def test_a_python_built_experiment_gets_the_projects_api_group() -> None:
    experiment = Experiment.model_validate({"metadata": {"name": "x"}})
    assert experiment.to_dict()["apiVersion"] == "tuner.dev/v1beta1"
    assert experiment.to_dict()["kind"] == "Experiment"


def _leaves(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return [leaf for value in node.values() for leaf in _leaves(value)]
    if isinstance(node, list):
        return [leaf for value in node for leaf in _leaves(value)]
    return [node]


def test_experiments_built_in_python_with_snake_case_names_validate() -> None:
    """The Python API builds specs from attributes, not from YAML; the same rules apply before and after defaults."""

    experiment = Experiment(
        metadata=ObjectMeta(name="from-python"),
        spec=ExperimentSpec(
            objective=ObjectiveSpec(type="maximize", objective_metric_name="accuracy"),
            algorithm=AlgorithmSpec(algorithm_name="random"),
            max_trial_count=4,
            parameters=[
                ParameterSpec(
                    name="lr",
                    parameter_type=ParameterType.DOUBLE,
                    feasible_space=FeasibleSpace(min=0.001, max=0.1),
                )
            ],
            trial_template=TrialTemplate(
                primary_container_name="main",
                trial_parameters=[TrialParameterSpec(name="lr", reference="lr")],
                trial_spec={
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "spec": {
                        "template": {
                            "spec": {"containers": [{"name": "main", "args": ["${trialParameters.lr}"]}]}
                        }
                    },
                },
            ),
        ),
    )
    assert validate_experiment(experiment) == []
    defaulted = apply_defaults(experiment)
    assert validate_experiment(defaulted) == []
    assert defaulted.to_dict()["spec"]["parameters"][0]["feasibleSpace"] == {
        "min": "0.001",
        "max": "0.1",
        "distribution": "uniform",
    }
    assert load_experiment(defaulted.to_dict()) == defaulted
