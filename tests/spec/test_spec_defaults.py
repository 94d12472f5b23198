"""Katib's defaults, as its defaulting webhook applies them, plus tuner's two additions."""

from __future__ import annotations

from typing import Any

import pytest

from tuner.spec import Experiment, apply_defaults, load_experiment


def defaulted(doc: dict[str, Any]) -> dict[str, Any]:
    return load_experiment(doc).to_dict()["spec"]


def test_counts_resume_policy_and_collector(doc: dict[str, Any]) -> None:
    del doc["spec"]["parallelTrialCount"]
    spec = defaulted(doc)
    assert spec["parallelTrialCount"] == 3
    assert spec["resumePolicy"] == "Never"
    assert spec["metricsCollectorSpec"] == {"collector": {"kind": "StdOut"}}
    assert "maxTrialCount" in spec and "maxFailedTrialCount" in spec  # given ones are kept, not invented


def test_given_values_are_not_overwritten(doc: dict[str, Any]) -> None:
    doc["spec"]["resumePolicy"] = "LongRunning"
    doc["spec"]["parallelTrialCount"] = 1
    spec = defaulted(doc)
    assert (spec["resumePolicy"], spec["parallelTrialCount"]) == ("LongRunning", 1)


@pytest.mark.parametrize(("objective_type", "strategy"), [("maximize", "max"), ("minimize", "min")])
def test_metric_strategies_follow_the_objective_type_for_every_metric(
    doc: dict[str, Any], objective_type: str, strategy: str
) -> None:
    doc["spec"]["objective"]["type"] = objective_type
    spec = defaulted(doc)
    assert spec["objective"]["metricStrategies"] == [
        {"name": "accuracy", "value": strategy},
        {"name": "loss", "value": strategy},  # Katib's code, not its API comment (which says latest)
    ]


def test_explicit_metric_strategies_are_kept(doc: dict[str, Any]) -> None:
    doc["spec"]["objective"]["metricStrategies"] = [{"name": "loss", "value": "latest"}]
    assert defaulted(doc)["objective"]["metricStrategies"] == [
        {"name": "loss", "value": "latest"},
        {"name": "accuracy", "value": "max"},
    ]


def test_job_conditions(doc: dict[str, Any]) -> None:
    template = defaulted(doc)["trialTemplate"]
    assert template["successCondition"] == 'status.conditions.#(type=="Complete")#|#(status=="True")#'
    assert template["failureCondition"] == 'status.conditions.#(type=="Failed")#|#(status=="True")#'
    assert "primaryPodLabels" not in template


@pytest.mark.parametrize(
    ("kind", "replicas"),
    [
        ("TFJob", "tfReplicaSpecs"),
        ("PyTorchJob", "pytorchReplicaSpecs"),
        ("XGBoostJob", "xgbReplicaSpecs"),
        ("MPIJob", "mpiReplicaSpecs"),
    ],
)
def test_kubeflow_training_job_conditions_and_primary_pod_labels(
    doc: dict[str, Any], kind: str, replicas: str
) -> None:
    trial_spec = doc["spec"]["trialTemplate"]["trialSpec"]
    pod = trial_spec["spec"]["template"]
    trial_spec.update(
        {"apiVersion": "kubeflow.org/v1", "kind": kind, "spec": {replicas: {"Master": {"template": pod}}}}
    )
    template = defaulted(doc)["trialTemplate"]
    assert template["successCondition"] == 'status.conditions.#(type=="Succeeded")#|#(status=="True")#'
    assert template["failureCondition"] == 'status.conditions.#(type=="Failed")#|#(status=="True")#'
    assert template["primaryPodLabels"] == {"training.kubeflow.org/job-role": "master"}


def test_given_primary_pod_labels_and_conditions_win(doc: dict[str, Any]) -> None:
    doc["spec"]["trialTemplate"]["successCondition"] = "status.done"
    template = defaulted(doc)["trialTemplate"]
    assert template["successCondition"] == "status.done"
    assert template["failureCondition"].startswith('status.conditions.#(type=="Failed")')


def test_no_conditions_are_invented_for_other_kinds() -> None:
    experiment = Experiment.model_validate(
        {"spec": {"trialTemplate": {"trialSpec": {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow"}}}}
    )
    template = apply_defaults(experiment).spec.trial_template
    assert template.success_condition is None and template.failure_condition is None


def test_file_collector_defaults(doc: dict[str, Any]) -> None:
    doc["spec"]["metricsCollectorSpec"] = {"collector": {"kind": "File"}}
    assert defaulted(doc)["metricsCollectorSpec"]["source"] == {
        "fileSystemPath": {"path": "/var/log/katib/metrics.log", "kind": "File", "format": "TEXT"}
    }


def test_tfevent_collector_defaults(doc: dict[str, Any]) -> None:
    doc["spec"]["metricsCollectorSpec"] = {"collector": {"kind": "TensorFlowEvent"}}
    assert defaulted(doc)["metricsCollectorSpec"]["source"] == {
        "fileSystemPath": {"path": "/var/log/katib/tfevent/", "kind": "Directory"}
    }


def test_prometheus_collector_defaults(doc: dict[str, Any]) -> None:
    doc["spec"]["metricsCollectorSpec"] = {"collector": {"kind": "PrometheusMetric"}}
    assert defaulted(doc)["metricsCollectorSpec"]["source"] == {"httpGet": {"path": "/metrics", "port": 8080}}


def test_uniform_distribution_on_every_parameter(doc: dict[str, Any]) -> None:
    doc["spec"]["parameters"][0]["feasibleSpace"]["distribution"] = "logUniform"
    spec = defaulted(doc)
    assert [p["feasibleSpace"]["distribution"] for p in spec["parameters"]] == [
        "logUniform",
        "uniform",
        "uniform",
    ]


def test_medianstop_settings_are_written_out(doc: dict[str, Any]) -> None:
    doc["spec"]["earlyStopping"] = {
        "algorithmName": "medianstop",
        "algorithmSettings": [{"name": "start_step", "value": "2"}],
    }
    assert defaulted(doc)["earlyStopping"]["algorithmSettings"] == [
        {"name": "start_step", "value": "2"},
        {"name": "min_trials_required", "value": "3"},
    ]
    doc["spec"]["earlyStopping"] = {"algorithmName": "medianstop"}
    assert defaulted(doc)["earlyStopping"]["algorithmSettings"] == [
        {"name": "min_trials_required", "value": "3"},
        {"name": "start_step", "value": "4"},
    ]


def test_generate_name_becomes_a_valid_name(doc: dict[str, Any]) -> None:
    del doc["metadata"]["name"]
    doc["metadata"]["generateName"] = "sweep-"
    experiment = load_experiment(doc)
    assert experiment.name.startswith("sweep-") and len(experiment.name) == len("sweep-") + 5
    doc["metadata"]["generateName"] = "x" * 60
    assert len(load_experiment(doc).name) == 40


def test_apply_defaults_leaves_its_argument_alone(doc: dict[str, Any]) -> None:
    experiment = Experiment.model_validate(doc)
    before = experiment.model_dump()
    defaulted_copy = apply_defaults(experiment)
    assert experiment.model_dump() == before
    assert defaulted_copy.spec.resume_policy is not None and experiment.spec.resume_policy is None
