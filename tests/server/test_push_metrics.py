"""Push metrics: `tuner.report` in a process with TUNER_SERVER set (what `tuner operator` gives a trial's
pod) POSTs to a real `tuner server` subprocess, which appends the values to the trial in the store."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from controllers.run import prepare
from tests.server.conftest import ServerProcess
from tuner.spec import load_experiment
from tuner.states import TrialState
from tuner.store import Store, open_store
from tuner.store.records import Assignment

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "kubernetes" / "experiment.yaml"


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'tuner.db'}"


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    db = open_store(store_url)
    yield db
    db.close()


@pytest.fixture
def server(tmp_path: Path, store_url: str, store: Store) -> Iterator[ServerProcess]:
    (tmp_path / "home").mkdir()
    process = ServerProcess(tmp_path / "home", store_url)
    process.start()
    yield process
    process.stop()


def running_trial(store: Store, name: str) -> int:
    record = prepare(store, load_experiment(EXAMPLE)).record
    trial = store.create_trial(record.id, name, [Assignment("x", "0.5", 0.5)], number=0)
    store.transition_trial(trial.id, TrialState.RUNNING, "TrialRunning")
    return trial.id


def report(server: ServerProcess, trial: str, code: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TUNER_SERVER": server.url,
        "TUNER_TRIAL_NAME": trial,
        "TUNER_EXPERIMENT": "quadratic",
        "TUNER_NAMESPACE": "default",
    }
    env.pop("TUNER_METRICS_FILE", None)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)


def test_report_reaches_the_store_through_the_server(store: Store, server: ServerProcess) -> None:
    trial_id = running_trial(store, "quadratic-push0001")
    done = report(
        server, "quadratic-push0001", "import tuner\nfor s in (1, 2): tuner.report(step=s, loss=1.0 / s)"
    )
    assert done.returncode == 0, done.stderr
    points = store.metric_series(trial_id, "loss")
    assert [(p.step, p.value) for p in points] == [(1, 1.0), (2, 0.5)]
    summary = store.metric_summaries(trial_id)["loss"]
    assert summary.min == 0.5 and summary.latest == 0.5


def test_bad_reports_are_refused_with_a_problem(store: Store, server: ServerProcess) -> None:
    trial_id = running_trial(store, "quadratic-push0002")
    url = f"{server.url}/api/v1/experiments/default/quadratic/trials/quadratic-push0002/metrics"
    empty = httpx.post(url, json={"metrics": {}}, timeout=30)
    assert empty.status_code == 422 and empty.headers["content-type"].startswith("application/problem+json")
    unknown = httpx.post(url.replace("push0002", "nosuch00"), json={"metrics": {"loss": 1}}, timeout=30)
    assert unknown.status_code == 404
    store.transition_trial(trial_id, TrialState.SUCCEEDED, "TrialSucceeded")
    late = httpx.post(url, json={"metrics": {"loss": 1}}, timeout=30)
    assert late.status_code == 409 and "Succeeded" in late.json()["detail"]
    refused = report(server, "quadratic-push0002", "import tuner; tuner.report(loss=3)")
    assert refused.returncode != 0 and "409" in refused.stderr
