"""Pipeline runs as trials: a tuner.dev PipelineRun workload, run by the local pipeline runner."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from controllers.local_run import load_local, run_local
from tuner.config import Settings
from tuner.errors import SpecError
from tuner.spec import load_experiment
from tuner.states import ExperimentState, TrialState
from tuner.store import open_store

PIPELINE = """
from pipelines.kfp import dsl
from pipelines.kfp.dsl import Dataset, Input, Metrics, Output


@dsl.component
def prepare(offset: float, data: Output[Dataset]):
    with open(data.path, "w") as handle:
        handle.write(str(offset))


@dsl.component
def score(data: Input[Dataset], x: float, metrics: Output[Metrics]) -> float:
    with open(data.path) as handle:
        offset = float(handle.read())
    loss = (x - offset) ** 2
    metrics.log_metric("loss", loss)
    return loss


@dsl.pipeline(name="two-step")
def two_step(x: float = 0.0, offset: float = 1.5):
    data = prepare(offset=offset)
    score(data=data.outputs["data"], x=x)
"""


def experiment(pipeline: str = "pipe.py", arguments: object = None) -> dict[str, object]:
    return {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": "pipes"},
        "spec": {
            "objective": {"type": "minimize", "objectiveMetricName": "loss"},
            "algorithm": {
                "algorithmName": "random",
                "algorithmSettings": [{"name": "random_state", "value": "2"}],
            },
            "parallelTrialCount": 2,
            "maxTrialCount": 3,
            "parameters": [
                {"name": "x", "parameterType": "double", "feasibleSpace": {"min": "-3", "max": "3"}}
            ],
            "trialTemplate": {
                "trialParameters": [{"name": "x", "reference": "x"}],
                "trialSpec": {
                    "apiVersion": "tuner.dev/v1beta1",
                    "kind": "PipelineRun",
                    "spec": {
                        "pipeline": pipeline,
                        "pipelineName": "two-step",
                        "arguments": arguments if arguments is not None else {"x": "${trialParameters.x}"},
                    },
                },
            },
        },
    }


def test_each_trial_is_a_recorded_pipeline_run(tmp_path: Path, sqlite_url: str) -> None:
    (tmp_path / "pipe.py").write_text(textwrap.dedent(PIPELINE))
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(experiment()))
    settings = Settings(
        data_dir=tmp_path / "home", store_url=sqlite_url, artifacts_url=str(tmp_path / "artifacts")
    )
    store = open_store(sqlite_url)
    try:
        record = run_local(store, load_local(path, settings)).record
        assert record.state == ExperimentState.SUCCEEDED
        trials = store.list_trials(record.id)
        assert len(trials) == 3 and all(t.state == TrialState.SUCCEEDED for t in trials)
        for trial in trials:
            x = float(trial.assignments[0].value)
            assert store.metric_summaries(trial.id)["loss"].latest == pytest.approx((x - 1.5) ** 2)
            (run,) = store.list_runs(trial_id=trial.id)  # the run is linked to its trial
            assert run.arguments["x"] == pytest.approx(x)
            tasks = {t.name: t for t in store.list_tasks(run.id)}
            assert set(tasks) == {"prepare", "score"}
            # lineage: the dataset prepare wrote is what score read
            written = {e.artifact_id for e in store.list_events(task_id=tasks["prepare"].id)}
            read = {e.artifact_id for e in store.list_events(task_id=tasks["score"].id)}
            assert written & read
        # prepare's inputs never change: later runs take it from the cache
        states = [
            t.state.value for r in store.list_runs() for t in store.list_tasks(r.id) if t.name == "prepare"
        ]
        assert "Cached" in states or states.count("Succeeded") < 3
    finally:
        store.close()


def test_the_pipeline_run_form_is_validated() -> None:
    spec = load_experiment(experiment())
    template = spec.spec.trial_template
    assert template.primary_container_name == "pipeline"
    assert template.success_condition and template.failure_condition
    with pytest.raises(SpecError) as error:
        load_experiment(experiment(pipeline="", arguments={"x": {"nested": 1}}))
    text = str(error.value)
    assert "trialSpec.spec.pipeline: required" in text
    assert "trialSpec.spec.arguments.x: must be a single value" in text


def test_a_missing_pipeline_file_is_refused_before_running(tmp_path: Path, sqlite_url: str) -> None:
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(experiment(pipeline="missing.py")))
    with pytest.raises(SpecError, match=r"missing\.py does not exist"):
        load_local(path, Settings(data_dir=tmp_path / "home", store_url=sqlite_url))
