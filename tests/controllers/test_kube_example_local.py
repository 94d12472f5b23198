"""examples/kubernetes/experiment.yaml, the Experiment the operator runs in tests/k8s, passes `tuner run`
here too: the same file for both ways of running."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tuner.states import ExperimentState, TrialState
from tuner.store import open_store

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "kubernetes" / "experiment.yaml"


def test_the_cluster_example_runs_with_tuner_run(tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path / 'tuner.db'}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TUNER_HOME": str(tmp_path / "home")}
    done = subprocess.run(
        [sys.executable, "-m", "tuner.cli", "run", str(EXAMPLE), "--store", store_url, "-q"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    store = open_store(store_url)
    try:
        record = store.get_experiment("quadratic", "default")
        trials = store.list_trials(record.id)
        assert record.state == ExperimentState.SUCCEEDED
        assert len(trials) == 4 and all(t.state == TrialState.SUCCEEDED for t in trials)
        for trial in trials:  # each trial printed the loss of its own substituted arguments
            values = trial.assignment_values()
            expected = (float(values["x"]) - 1) ** 2 + int(values["shift"])
            assert store.metric_summaries(trial.id)["loss"].latest == pytest.approx(expected)
    finally:
        store.close()
