"""Helpers for the spec tests: a small valid Katib document to start from, and its problems as lines."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from tuner.errors import SpecError
from tuner.spec import load_experiment

BASE: dict[str, Any] = {
    "apiVersion": "kubeflow.org/v1beta1",
    "kind": "Experiment",
    "metadata": {"name": "base", "namespace": "kubeflow"},
    "spec": {
        "objective": {
            "type": "maximize",
            "objectiveMetricName": "accuracy",
            "additionalMetricNames": ["loss"],
        },
        "algorithm": {"algorithmName": "random"},
        "parallelTrialCount": 2,
        "maxTrialCount": 6,
        "maxFailedTrialCount": 2,
        "parameters": [
            {"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.01", "max": "0.1"}},
            {"name": "layers", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "4"}},
            {"name": "opt", "parameterType": "categorical", "feasibleSpace": {"list": ["sgd", "adam"]}},
        ],
        "trialTemplate": {
            "primaryContainerName": "main",
            "trialParameters": [
                {"name": "learningRate", "reference": "lr"},
                {"name": "layers", "reference": "layers"},
                {"name": "optimizer", "reference": "opt"},
            ],
            "trialSpec": {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "spec": {
                    "template": {
                        "spec": {
                            "containers": [
                                {
                                    "name": "main",
                                    "image": "example.org/train:1",
                                    "command": [
                                        "python3",
                                        "train.py",
                                        "--lr=${trialParameters.learningRate}",
                                        "--layers=${trialParameters.layers}",
                                        "--optimizer=${trialParameters.optimizer}",
                                    ],
                                }
                            ],
                            "restartPolicy": "Never",
                        }
                    }
                },
            },
        },
    },
}


@pytest.fixture
def doc() -> dict[str, Any]:
    """A fresh copy of a valid Experiment document, to be broken by the test."""
    return copy.deepcopy(BASE)


def problem_lines(document: Any) -> list[str]:
    """The problems `load_experiment` reports for `document`, as printed (`path: message`)."""
    try:
        load_experiment(document)
    except SpecError as exc:
        return [str(p) for p in exc.problems]
    return []


@pytest.fixture
def problems() -> Callable[[Any], list[str]]:
    return problem_lines
