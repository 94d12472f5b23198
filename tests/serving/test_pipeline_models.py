"""A pipeline task's Output[Model] written with `tuner.log_model(..., path=...)`: promoted from the trial
the run belongs to, registered with lineage to the task, and loaded for serving."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipelines.compiler.loader import load_pipeline
from pipelines.runner.store_recorder import StoreRecorder
from pipelines.runner.testing import Harness
from serving.loader import load_version
from serving.registry import Registry
from tuner.artifacts import open_artifact_store
from tuner.config import Settings
from tuner.states import TrialState
from tuner.store import Store
from tuner.store.records import Assignment

HERE = Path(__file__).resolve().parent


def test_the_best_trials_pipeline_model_is_promoted_with_lineage_to_its_task(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    spec = {"spec": {"objective": {"type": "maximize", "objectiveMetricName": "accuracy"}}}
    experiment = store.create_experiment("piped-exp", spec, "sha256:x")
    trial = store.create_trial(experiment.id, "piped-exp-1", [Assignment("c", "1.0", 1.0)])
    store.transition_trial(trial.id, TrialState.RUNNING)
    result = Harness(StoreRecorder(store), settings).run(
        load_pipeline(HERE / "pipeline_with_model.py"), {"c": 1.0}, trial_id=trial.id
    )
    assert result.success(), result
    store.log_metric(trial.id, "accuracy", float(result.task("train").outputs["Output"]))
    store.transition_trial(trial.id, TrialState.SUCCEEDED)

    registry = Registry(store, actor="test")
    done = registry.promote("piped-exp", model_name="piped", alias="production")
    _, version = registry.resolve("piped@production")
    (task,) = store.list_tasks(store.list_runs(trial_id=trial.id)[0].id)
    assert (done.version, version.source_task_id, version.source_trial_id) == (1, task.id, None)
    assert version.signature["flavor"] == "sklearn"
    assert version.signature["inputs"] == [{"name": "input-0", "datatype": "FP64", "shape": [-1, 64]}]
    artifact = registry.artifact(version)
    loaded = load_version(
        "piped", version, artifact, open_artifact_store(settings=settings), tmp_path / "cache"
    )
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    assert (np.asarray(loaded.predict(x[1500:1600])) == y[1500:1600]).mean() > 0.8
