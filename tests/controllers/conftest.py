"""Helpers for controller tests: Katib experiment files whose trials are small `python3 -c` programs."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tuner.config import Settings


def experiment_document(
    name: str,
    script: str,
    *,
    parameters: list[dict[str, Any]] | None = None,
    objective: dict[str, Any] | None = None,
    algorithm: str = "random",
    settings: dict[str, str] | None = None,
    parallel: int = 2,
    max_trials: int | None = 4,
    max_failed: int | None = None,
    collector: dict[str, Any] | None = None,
    early_stopping: dict[str, Any] | None = None,
    job_spec: dict[str, Any] | None = None,
    extra_args: list[str] | None = None,
    resume_policy: str | None = None,
) -> dict[str, Any]:
    """An Experiment whose trial runs `python3 -c script --x=<x>` (script reads sys.argv)."""
    params = parameters or [
        {"name": "x", "parameterType": "double", "feasibleSpace": {"min": "-5", "max": "5"}},
    ]
    args = [f"--{p['name']}=${{trialParameters.{p['name']}}}" for p in params]
    spec: dict[str, Any] = {
        "objective": objective or {"type": "minimize", "objectiveMetricName": "loss"},
        "algorithm": {
            "algorithmName": algorithm,
            "algorithmSettings": [
                {"name": k, "value": v} for k, v in (settings or {"random_state": "1"}).items()
            ],
        },
        "parallelTrialCount": parallel,
        "parameters": params,
        "trialTemplate": {
            "primaryContainerName": "main",
            "trialParameters": [{"name": p["name"], "reference": p["name"]} for p in params],
            "trialSpec": {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "spec": {
                    **(job_spec or {}),
                    "template": {
                        "spec": {
                            "containers": [
                                {
                                    "name": "main",
                                    "image": "python:3.11",
                                    "command": ["python3", "-c", textwrap.dedent(script)],
                                    "args": [*args, *(extra_args or [])],
                                }
                            ],
                            "restartPolicy": "Never",
                        }
                    },
                },
            },
        },
    }
    if max_trials is not None:
        spec["maxTrialCount"] = max_trials
    if max_failed is not None:
        spec["maxFailedTrialCount"] = max_failed
    if collector is not None:
        spec["metricsCollectorSpec"] = collector
    if early_stopping is not None:
        spec["earlyStopping"] = early_stopping
    if resume_policy is not None:
        spec["resumePolicy"] = resume_policy
    return {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": name},
        "spec": spec,
    }


ARGS = "import sys; args = dict(a[2:].split('=', 1) for a in sys.argv[1:] if a.startswith('--'))\n"
"""Prefix for trial scripts: `args['x']` holds each `--x=value` argument."""


@pytest.fixture
def write_experiment(tmp_path: Path) -> Callable[..., Path]:
    def write(name: str, script: str, **options: Any) -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(experiment_document(name, ARGS + textwrap.dedent(script), **options)))
        return path

    return write


@pytest.fixture
def settings(tmp_path: Path, sqlite_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "home", store_url=sqlite_url)
