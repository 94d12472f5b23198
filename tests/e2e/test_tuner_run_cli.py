"""`tuner run` as a user runs it: a real process, real trials, a real store; killed, interrupted, resumed."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.controllers.conftest import ARGS, experiment_document
from tests.e2e.conftest import PATIENCE, ROOT, tuner
from tuner.errors import NotFoundError
from tuner.states import ExperimentState, TrialState
from tuner.store import open_store

pytestmark = pytest.mark.timeout(PATIENCE * 2)

_STARTED: list[subprocess.Popen[str]] = []


def start(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    _STARTED.append(
        subprocess.Popen(
            [sys.executable, "-m", "tuner.cli", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
    )
    return _STARTED[-1]


@pytest.fixture(autouse=True)
def _no_process_outlives_its_test(tmp_path: Path) -> Iterator[None]:
    """Even when a test failed: open the gates (waiting trials end) and stop the runs it started."""
    yield
    if (tmp_path / "gates").exists():
        (tmp_path / "gates" / "open").touch()
    while _STARTED:
        process = _STARTED.pop()
        if process.poll() is None:
            process.kill()
        process.communicate()


def write(tmp_path: Path, name: str, script: str, **options: object) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(experiment_document(name, ARGS + script, **options)))  # type: ignore[arg-type]
    return path


def wait_for(
    condition: Callable[[], bool], process: subprocess.Popen[str] | None = None, timeout: float = PATIENCE
) -> None:
    """Wait for a state (the timeout only turns a hang into a failure)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the run ended first: {process.communicate()}")
        assert time.monotonic() < deadline, "the awaited state never came"
        time.sleep(0.02)


def lease_of(env: dict[str, str], name: str) -> Any:
    if not Path(env["TUNER_STORE"].removeprefix("sqlite:///")).exists():
        return None
    store = open_store(env["TUNER_STORE"])
    try:
        return store.get_lease(store.get_experiment(name).id)
    except NotFoundError:
        return None
    finally:
        store.close()


def running_trials(env: dict[str, str], name: str) -> int:
    if not Path(env["TUNER_STORE"].removeprefix("sqlite:///")).exists():
        return 0
    store = open_store(env["TUNER_STORE"])
    try:
        return len(store.list_trials(store.get_experiment(name).id, states=[TrialState.RUNNING]))
    except NotFoundError:
        return 0
    finally:
        store.close()


GATED = """
import os, time
open(os.path.join(os.environ['GATES'], os.environ['TUNER_TRIAL_NAME']), 'w').close()
while not os.path.exists(os.path.join(os.environ['GATES'], 'open')):
    time.sleep(0.02)
print('loss=1')
"""
"""A trial that says it started and then waits until the test opens the gate."""


@pytest.fixture
def gates(tmp_path: Path, env: dict[str, str]) -> Path:
    folder = tmp_path / "gates"
    folder.mkdir()
    env["GATES"] = str(folder)
    return folder


LEDGER_SCRIPT = """
import os, time
with open(os.environ['LEDGER'], 'a') as ledger:
    ledger.write(os.environ['TUNER_TRIAL_NAME'] + '\\n')
time.sleep(0.4)
x = float(args['x'])
print(f'loss={x * x}')
"""


@pytest.mark.parametrize("kill_after_started", [0, 1, 3, 6])
def test_kill_9_then_resume_loses_and_repeats_nothing(
    tmp_path: Path, env: dict[str, str], kill_after_started: int
) -> None:
    """Killed at several points of its run, chosen by how many trials had started (0: as soon as it
    drives the experiment), never by the clock."""
    ledger = tmp_path / "ledger"
    env = {**env, "LEDGER": str(ledger)}
    path = write(tmp_path, "crash", LEDGER_SCRIPT, max_trials=8, parallel=2)
    process = start("run", str(path), env=env)
    if kill_after_started:
        wait_for(lambda: ledger.exists() and len(ledger.read_text().split()) >= kill_after_started, process)
    else:
        wait_for(lambda: lease_of(env, "crash") is not None, process)
    process.kill()  # SIGKILL: no cleanup at all; its trial processes keep running in their own sessions
    process.wait()
    listed = tuner("experiments", "list", env=env).stdout
    assert "no driver" in listed, listed  # Running in the store, but nobody drives it: the list says so
    result = tuner("run", str(path), env=env)
    assert result.returncode == 0, result.stderr
    store = open_store(env["TUNER_STORE"])
    try:
        record = store.get_experiment("crash")
        trials = store.list_trials(record.id)
        assert record.state == ExperimentState.SUCCEEDED
        assert sum(1 for t in trials if t.state == TrialState.SUCCEEDED) == 8
        assert all(t.state in (TrialState.SUCCEEDED, TrialState.KILLED) for t in trials)
        assert len({t.name for t in trials}) == len(trials) and len({t.number for t in trials}) == len(trials)
        started = Counter(ledger.read_text().split())
        assert all(count == 1 for count in started.values()), f"a trial ran twice: {started}"
        for trial in trials:
            if trial.state == TrialState.SUCCEEDED:
                assert len(store.metric_series(trial.id, "loss")) == 1  # no metric recorded twice
    finally:
        store.close()


def test_second_run_of_a_running_experiment_is_refused(
    tmp_path: Path, env: dict[str, str], gates: Path
) -> None:
    path = write(tmp_path, "busy", GATED, max_trials=3, parallel=1)
    first = start("run", str(path), env=env)
    try:
        wait_for(lambda: running_trials(env, "busy") == 1, first)
        second = tuner("run", str(path), env=env)
        assert second.returncode == 1
        assert f"already being run by process {first.pid}" in second.stderr, second.stderr
    finally:
        (gates / "open").touch()
        first.wait(timeout=PATIENCE)
    assert first.returncode == 0


def test_ctrl_c_stops_trials_and_leaves_it_resumable(
    tmp_path: Path, env: dict[str, str], gates: Path
) -> None:
    path = write(tmp_path, "sigint", GATED, max_trials=4, parallel=2)
    process = start("run", str(path), env=env)
    wait_for(lambda: running_trials(env, "sigint") == 2, process)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=PATIENCE)
    assert process.returncode == 130, err
    assert "interrupted" in err and "run `tuner run" in err
    store = open_store(env["TUNER_STORE"])
    record = store.get_experiment("sigint")
    assert record.state == ExperimentState.INTERRUPTED
    assert not any(t.state.is_active for t in store.list_trials(record.id))
    store.close()
    listed = tuner("experiments", "list", env=env)
    assert "Interrupted" in listed.stdout and "Running" not in listed.stdout
    (gates / "open").touch()
    again = tuner("run", str(path), env=env)
    assert again.returncode == 0, again.stderr
    store = open_store(env["TUNER_STORE"])
    trials = store.list_trials(store.get_experiment("sigint").id)
    assert sum(1 for t in trials if t.state == TrialState.SUCCEEDED) == 4
    store.close()


def test_experiments_stop_from_another_terminal(tmp_path: Path, env: dict[str, str], gates: Path) -> None:
    path = write(tmp_path, "stopme", GATED, max_trials=4, parallel=2)
    process = start("run", str(path), env=env)
    try:
        wait_for(lambda: running_trials(env, "stopme") == 2, process)
        result = tuner("experiments", "stop", "stopme", env=env)
        assert result.returncode == 0, result.stderr
        assert "stopped stopme (Stopped)" in result.stderr
        _, err = process.communicate(timeout=PATIENCE)
        assert process.returncode == 1 and "stopped: running trials were stopped" in err
    finally:
        process.kill()
    shown = tuner("experiments", "show", "stopme", "-o", "json", env=env)
    document = json.loads(shown.stdout)
    assert document["kind"] == "Experiment" and document["status"].get("trialsKilled") == 2
    running = next(c for c in document["status"]["conditions"] if c["type"] == "Running")
    assert (running["status"], running["reason"]) == ("False", "ExperimentStopped")
    assert "Stopped" in tuner("experiments", "list", env=env).stdout
    assert "is not running" in tuner("experiments", "stop", "stopme", env=env).stderr
    (gates / "open").touch()
    again = tuner("run", str(path), env=env)
    assert again.returncode == 0, again.stderr


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_two_runs_racing_for_one_experiment(
    tmp_path: Path, env: dict[str, str], gates: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    """Two `tuner run` of one file started together: exactly one drives it, the other exits 1 at once."""
    if backend == "postgresql":
        env["TUNER_STORE"] = request.getfixturevalue("postgres_url")
    path = write(tmp_path, "race", GATED, max_trials=3, parallel=1)
    racers = [start("run", str(path), env=env) for _ in range(2)]
    try:
        wait_for(lambda: any(r.poll() is not None for r in racers))
        loser = next(r for r in racers if r.poll() is not None)
        winner = next(r for r in racers if r is not loser)
        _, err = loser.communicate()
        assert loser.returncode == 1 and f"already being run by process {winner.pid}" in err, err
    finally:
        (gates / "open").touch()
    assert winner.wait(timeout=PATIENCE) == 0
    started = sorted(p.name for p in gates.iterdir() if p.name != "open")
    assert started == sorted(set(started)) and len(started) == 3


def test_finished_experiment_is_reported_not_rerun(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path, "done", "print('loss=1')", max_trials=2)
    assert tuner("run", str(path), env=env).returncode == 0
    again = tuner("run", str(path), "-o", "yaml", env=env)
    assert again.returncode == 0
    assert "already finished" in again.stderr
    document = yaml.safe_load(again.stdout)
    assert document["status"]["trialsSucceeded"] == 2
    assert any(c["reason"] == "ExperimentMaxTrialsReached" for c in document["status"]["conditions"])


def test_raised_max_trials_restarts_a_long_running_experiment(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path, "longrun", "print('loss=1')", max_trials=2, resume_policy="LongRunning")
    assert tuner("run", str(path), env=env).returncode == 0
    path = write(tmp_path, "longrun", "print('loss=1')", max_trials=4, resume_policy="LongRunning")
    result = tuner("run", str(path), "-o", "json", env=env)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["status"]["trialsSucceeded"] == 4
    assert document["spec"]["maxTrialCount"] == 4  # the stored spec follows the raised count
    assert not any(c["type"] == "Restarting" for c in document["status"]["conditions"])


def test_changed_spec_is_refused_naming_the_fields(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path, "changed", "print('loss=1')", max_trials=2)
    assert tuner("run", str(path), env=env).returncode == 0
    path = write(tmp_path, "changed", "print('loss=1')", max_trials=3, algorithm="grid", settings={})
    document = yaml.safe_load(path.read_text())
    document["spec"]["parameters"][0]["feasibleSpace"]["step"] = "1"
    path.write_text(yaml.safe_dump(document))
    result = tuner("run", str(path), env=env)
    assert result.returncode == 2
    assert "spec.algorithm.algorithmName" in result.stderr and "stored" in result.stderr
    assert "maxTrialCount" not in result.stderr.split("only")[0]


def test_invalid_file_stores_nothing(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path, "bad", "print('loss=1')", parallel=5, max_trials=2)
    result = tuner("run", str(path), env=env)
    assert result.returncode == 2
    assert "parallelTrialCount" in result.stderr
    assert not Path(env["TUNER_STORE"].removeprefix("sqlite:///")).exists()


def test_output_documents_and_trial_commands(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path, "docs", "print('step one'); print('loss=0.5')", max_trials=2)
    result = tuner("run", str(path), "-o", "yaml", env=env)
    assert result.returncode == 0
    document = yaml.safe_load(result.stdout)
    assert document["apiVersion"] == "kubeflow.org/v1beta1" and document["kind"] == "Experiment"
    assert document["status"]["currentOptimalTrial"]["observation"]["metrics"][0]["name"] == "loss"
    trials = yaml.safe_load(tuner("trials", "list", "docs", "-o", "yaml", env=env).stdout)
    assert trials["kind"] == "List" and len(trials["items"]) == 2
    first = trials["items"][0]
    assert first["kind"] == "Trial" and first["metadata"]["labels"]["katib.kubeflow.org/experiment"] == "docs"
    assert first["status"]["observation"]["metrics"][0]["latest"] == "0.5"
    logs = tuner("trials", "logs", first["metadata"]["name"], env=env)
    assert logs.returncode == 0 and "step one" in logs.stdout
    listed = yaml.safe_load(tuner("experiments", "list", "-o", "yaml", env=env).stdout)
    assert [item["metadata"]["name"] for item in listed["items"]] == ["docs"]
    deleted = tuner("experiments", "delete", "docs", "--yes", env=env)
    assert deleted.returncode == 0
    assert not (Path(env["TUNER_HOME"]) / "runs" / "default" / "docs").exists()
    assert tuner("experiments", "show", "docs", env=env).returncode == 2
