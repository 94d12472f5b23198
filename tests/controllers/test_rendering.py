"""Template substitution as Katib does it, and Kubernetes $(VAR) expansion."""

import pytest

from controllers.rendering import (
    TrialIdentity,
    container_env,
    expand_env_references,
    primary_container,
    render_trial_spec,
)
from tuner.errors import SpecError

JOB = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {"labels": {"team": "vision"}, "annotations": {"owner": "ada"}},
    "spec": {
        "template": {
            "spec": {
                "containers": [
                    {
                        "name": "training-container",
                        "command": ["python3", "train.py", "--lr=${trialParameters.learningRate}"],
                        "args": [
                            "--opt",
                            "${trialParameters.optimizer}",
                            "--name=${trialParameters.trialName}",
                        ],
                    }
                ]
            }
        }
    },
}

IDENTITY = TrialIdentity(
    name="exp-abc12345",
    namespace="default",
    kind="Job",
    api_version="batch/v1",
    labels={"team": "vision"},
    annotations={"owner": "ada"},
)


def test_parameters_and_meta_references_are_substituted() -> None:
    rendered = render_trial_spec(
        JOB,
        [("learningRate", "lr"), ("optimizer", "opt"), ("trialName", "${trialSpec.Name}")],
        {"lr": "0.01", "opt": 'ad"am'},
        IDENTITY,
    )
    container = primary_container(rendered, "training-container")
    assert container is not None
    assert container["command"] == ["python3", "train.py", "--lr=0.01"]
    assert container["args"] == ["--opt", 'ad"am', "--name=exp-abc12345"]
    assert rendered["metadata"]["name"] == "exp-abc12345"
    assert JOB["spec"]["template"]["spec"]["containers"][0]["command"][2].endswith("learningRate}")  # type: ignore[index]


def test_label_and_annotation_references() -> None:
    spec = {"kind": "Job", "x": "${trialParameters.t}-${trialParameters.o}"}
    rendered = render_trial_spec(
        spec, [("t", "${trialSpec.Labels[team]}"), ("o", "${trialSpec.Annotations[owner]}")], {}, IDENTITY
    )
    assert rendered["x"] == "vision-ada"


def test_unknown_reference_is_a_spec_error() -> None:
    with pytest.raises(SpecError, match="names no parameter"):
        render_trial_spec({"x": "${trialParameters.a}"}, [("a", "missing")], {}, IDENTITY)


def test_primary_container_in_training_jobs() -> None:
    pytorch = {
        "kind": "PyTorchJob",
        "spec": {
            "pytorchReplicaSpecs": {
                "Master": {"template": {"spec": {"containers": [{"name": "pytorch", "command": ["a"]}]}}},
                "Worker": {"template": {"spec": {"containers": [{"name": "pytorch", "command": ["b"]}]}}},
            }
        },
    }
    assert primary_container(pytorch, "pytorch") == {"name": "pytorch", "command": ["a"]}
    assert primary_container(pytorch, "missing") is None


def test_kubernetes_env_expansion() -> None:
    env = {"DATA": "/data", "N": "3"}
    assert expand_env_references("$(DATA)/x-$(N)", env) == "/data/x-3"
    assert expand_env_references("$$(DATA) $(UNKNOWN)", env) == "$(DATA) $(UNKNOWN)"


def test_container_env_in_order_with_field_refs() -> None:
    container = {
        "env": [
            {"name": "A", "value": "1"},
            {"name": "B", "value": "$(A)-2"},
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "SECRET", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
        ]
    }
    env, unsupported = container_env(container, IDENTITY)
    assert env == {"A": "1", "B": "1-2", "POD": "exp-abc12345"}
    assert unsupported == ["SECRET"]
