"""`tuner.tune` and `tuner.Client` from Python, with worker processes and threads, on a real store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import tuner
from tuner.errors import SpecError
from tuner.states import ExperimentState, TrialState

SPACE = {
    "lr": tuner.search.double(1e-4, 1e-1, log=True),
    "layers": tuner.search.int(1, 4),
    "optimizer": tuner.search.categorical(["sgd", "adam"]),
    "batch": tuner.search.discrete([16, 32, 64]),
}


def typed_objective(params: dict[str, Any]) -> float:
    assert isinstance(params["lr"], float) and 1e-4 <= params["lr"] <= 1e-1
    assert isinstance(params["layers"], int) and not isinstance(params["layers"], bool)
    assert params["optimizer"] in ("sgd", "adam")
    assert params["batch"] in (16, 32, 64)
    return params["layers"] + (0.5 if params["optimizer"] == "adam" else 0.0)


@pytest.mark.parametrize("threads", [False, True])
def test_typed_values_and_a_float_result(sqlite_url: str, threads: bool) -> None:
    result = tuner.tune(
        typed_objective,
        SPACE,
        algorithm_name="random",
        max_trial_count=8,
        parallel_trial_count=2,
        threads=threads,
        store=sqlite_url,
    )
    assert result.state == ExperimentState.SUCCEEDED and result.reason == "ExperimentMaxTrialsReached"
    assert len(result.trials) == 8 and all(t.state == TrialState.SUCCEEDED for t in result.trials)
    assert result.best_trial is not None
    assert result.best_value == max(t.value for t in result.trials if t.value is not None)
    assert result.best_value == typed_objective(result.best_trial.parameters)


def test_dict_results_report_and_minimize(sqlite_url: str) -> None:
    def objective(params: dict[str, Any]) -> dict[str, float]:
        x = params["x"]
        for step in range(1, 4):
            tuner.report(step=step, loss=(x - 2) ** 2 + 1.0 / step)
        return {"loss": (x - 2) ** 2, "other": 1.0}

    result = tuner.tune(
        objective,
        {"x": tuner.search.double(-4, 4)},
        objective_metric_name="loss",
        additional_metric_names=["other"],
        objective_type="minimize",
        algorithm_name="random",
        max_trial_count=5,
        store=sqlite_url,
    )
    assert result.best_value == min(t.value for t in result.trials if t.value is not None)
    with tuner.Client(store=sqlite_url) as client:
        optimal = client.get_optimal_hyperparameters(result.experiment)
        assert optimal is not None and optimal["bestTrialName"] == result.best_trial.name  # type: ignore[union-attr]
        trials = client.list_trials(result.experiment)
        assert len(trials) == 5
        metrics = {m["name"] for m in trials[0]["status"]["observation"]["metrics"]}
        assert metrics == {"loss", "other"}
        assert client.is_experiment_succeeded(result.experiment)
        assert len(client.get_success_trial_details(result.experiment)) == 5


def test_failures_count_and_end_the_experiment(sqlite_url: str) -> None:
    def broken(params: dict[str, Any]) -> float:
        raise ValueError(f"cannot handle {params['x']}")

    with pytest.raises(tuner.ExperimentFailedError) as info:  # no trial succeeded: nothing to return
        tuner.tune(
            broken,
            {"x": tuner.search.int(0, 9)},
            max_trial_count=5,
            max_failed_trial_count=2,
            algorithm_name="random",
            store=sqlite_url,
        )
    result = info.value.result
    assert isinstance(result, tuner.TuneResult) and result.state == ExperimentState.FAILED
    failed = [t for t in result.trials if t.state == TrialState.FAILED]
    assert len(failed) == 2


def test_early_stopping_with_function_trials(sqlite_url: str, tmp_path: Path) -> None:
    """Bad trials (chosen from what the folder says, see MEDIAN_SCRIPT in tests/controllers) report poor
    values and then wait for the rule's decision: no dependence on the controller looking in time."""
    folder = tmp_path / "trials"
    folder.mkdir()

    def objective(params: dict[str, Any]) -> None:
        import os
        import time

        name = os.environ["TUNER_TRIAL_NAME"]
        good = len(list(folder.glob("good-*")))
        if good >= 2 and good > len(list(folder.glob("bad-*"))):
            (folder / f"bad-{name}").touch()
            for step in range(1, 4):
                tuner.report(step=step, accuracy=0.0)
            bound = time.time() + 60
            while time.time() < bound:  # stopped here by the rule, long before the bound
                time.sleep(0.02)
            return
        for step in range(1, 11):
            tuner.report(step=step, accuracy=params["quality"] * step / 10 + 0.1)
        (folder / f"good-{name}").touch()

    result = tuner.tune(
        objective,
        {"quality": tuner.search.double(0.0, 1.0)},
        objective_metric_name="accuracy",
        algorithm_name="random",
        algorithm_settings={"random_state": 3},
        max_trial_count=12,
        early_stopping="medianstop",
        early_stopping_settings={"min_trials_required": 2, "start_step": 3},
        store=sqlite_url,
    )
    assert result.state == ExperimentState.SUCCEEDED
    stopped = sorted(t.name for t in result.trials if t.state == TrialState.EARLY_STOPPED)
    assert stopped and stopped == sorted(p.name[4:] for p in folder.glob("bad-*"))


def test_bad_arguments_name_the_field(sqlite_url: str) -> None:
    with pytest.raises(SpecError, match="parallelTrialCount"):
        tuner.tune(typed_objective, SPACE, max_trial_count=2, parallel_trial_count=3, store=sqlite_url)
    with pytest.raises(SpecError, match="algorithmName"):
        tuner.tune(typed_objective, SPACE, algorithm_name="no-such-algorithm", store=sqlite_url)
    with pytest.raises(TypeError, match=r"tuner\.search"):
        tuner.tune(typed_objective, {"x": (1, 2)}, store=sqlite_url)  # type: ignore[dict-item]


def test_report_outside_a_trial_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TUNER_METRICS_FILE", raising=False)
    with pytest.raises(RuntimeError, match="outside a trial"):
        tuner.report(loss=1.0)
    with pytest.raises(ValueError, match="must be a number"):
        tuner.report(loss="high")


def test_report_to_a_metrics_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "push.jsonl"
    monkeypatch.setenv("TUNER_METRICS_FILE", str(target))
    tuner.report(step=3, loss=0.5)
    tuner.report_metrics({"loss": "0.25"})
    from controllers.collectors.jsonlines import JsonLinesCollector

    observations = JsonLinesCollector(["loss"]).feed(target.read_text())
    assert [(o.step, o.value) for o in observations] == [(3, 0.5), (4, 0.25)]


SCRIPT = """
import os, sys, time
from pathlib import Path
import tuner

folder = Path(sys.argv[2])

def objective(params):
    # each trial is written down when it starts; from the third on (or every one when GATE_ALL is set) it
    # then waits until the test opens the gate: the test acts on states, never on timing
    with open(folder / "ledger", "a") as ledger:
        ledger.write(os.environ["TUNER_TRIAL_NAME"] + "\\n")
    started = len((folder / "ledger").read_text().split())
    if started >= 3 or os.environ.get("GATE_ALL"):
        (folder / "blocked").touch()
        while not (folder / "gate").exists():
            time.sleep(0.02)
    return params["x"]

try:
    result = tuner.tune(objective, {"x": tuner.search.double(0, 1)}, name="resumable", algorithm_name="random",
                        max_trial_count=6, store=sys.argv[1])
except KeyboardInterrupt:
    print("KeyboardInterrupt", flush=True)
    raise SystemExit(130)
print(result.state.value, result.interrupted, sum(t.state.value == "Succeeded" for t in result.trials))
print("the caller goes on", flush=True)
"""

ROOT = Path(__file__).resolve().parents[2]


def start_script(tmp_path: Path, store: str, **env: str) -> subprocess.Popen[str]:
    """The script above in its own session (as a terminal's foreground job: Ctrl-C reaches the group)."""
    script = tmp_path / "racer.py"  # no "tuner" in the command line: the old lease check took such as dead
    script.write_text(SCRIPT)
    return subprocess.Popen(
        [sys.executable, str(script), store, str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        start_new_session=True,
    )


@pytest.fixture
def scripts(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Starts the script; afterwards, even when the test failed, opens the gate (waiting trials, and a killed
    call's orphaned worker, finish) and kills what still runs: no process outlives its test."""
    started: list[subprocess.Popen[str]] = []

    def start(store: str, **env: str) -> subprocess.Popen[str]:
        started.append(start_script(tmp_path, store, **env))
        return started[-1]

    yield start
    (tmp_path / "gate").touch()
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()


PATIENCE = 600
"""Seconds before a wait counts as a hang (a bound for failing, never a timing the test depends on)."""


def wait_for(path: Path, process: subprocess.Popen[str] | None = None, timeout: float = PATIENCE) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the script ended first: {process.communicate()}")
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.02)


def stored(store: str) -> tuple[dict[str, Any], list[str]]:
    with tuner.Client(store=store) as client:
        document = client.get_experiment("resumable")
        return document, [t["status"]["conditions"][-1]["type"] for t in client.list_trials("resumable")]


def ledger(tmp_path: Path) -> list[str]:
    return (tmp_path / "ledger").read_text().split()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.mark.timeout(PATIENCE * 2)
def test_an_interrupted_tune_call_resumes_by_name(
    tmp_path: Path, store_url: str, scripts: Callable[..., subprocess.Popen[str]]
) -> None:
    """Ctrl-C (SIGINT to the foreground process group, as a terminal sends it) stops the trials, records the
    experiment Interrupted and raises KeyboardInterrupt in the caller; the same call again finishes the job."""
    first = scripts(store_url)
    wait_for(tmp_path / "blocked", first)  # two trials done, the third waits at the gate
    os.killpg(first.pid, signal.SIGINT)
    out, err = first.communicate(timeout=PATIENCE)
    assert out.split() == ["KeyboardInterrupt"], err
    assert "recorded Interrupted" in err and "name='resumable'" in err
    document, trial_states = stored(store_url)
    assert document["status"]["conditions"][-1]["reason"] == "ExperimentInterrupted"
    running = next(c for c in document["status"]["conditions"] if c["type"] == "Running")
    assert running["status"] == "False"
    assert trial_states == ["Succeeded", "Succeeded", "Killed"]
    listed = subprocess.run(
        [sys.executable, "-m", "tuner.cli", "experiments", "list", "--store", store_url],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"},
        timeout=PATIENCE,
    )
    assert "Interrupted" in listed.stdout and "Running" not in listed.stdout, listed.stdout
    (tmp_path / "gate").touch()
    second = scripts(store_url)
    out, err = second.communicate(timeout=PATIENCE)
    assert out.split()[:3] == ["Succeeded", "False", "6"], err


@pytest.mark.timeout(PATIENCE * 2)
def test_two_tune_calls_race_for_one_experiment(
    tmp_path: Path, store_url: str, scripts: Callable[..., subprocess.Popen[str]]
) -> None:
    """Two scripts call tune(name=...) at the same moment: exactly one drives it, the other is refused at
    once with a clear error; so is a third one started while it runs; every trial runs once."""
    racers = [scripts(store_url, GATE_ALL="1") for _ in range(2)]
    deadline = time.monotonic() + PATIENCE
    while all(r.poll() is None for r in racers):  # the loser ends; the winner's first trial waits at the gate
        assert time.monotonic() < deadline, "neither script was refused"
        time.sleep(0.02)
    loser = next(r for r in racers if r.poll() is not None)
    winner = next(r for r in racers if r is not loser)
    _, err = loser.communicate()
    assert loser.returncode == 1
    assert "LeaseHeldError" in err and f"already being run by process {winner.pid}" in err
    wait_for(tmp_path / "blocked", winner)  # the winner drives: its first trial waits at the gate
    late = scripts(store_url, GATE_ALL="1")  # a third call while it runs: refused too
    _, err = late.communicate(timeout=PATIENCE)
    assert late.returncode == 1 and f"already being run by process {winner.pid}" in err, err
    (tmp_path / "gate").touch()
    out, err = winner.communicate(timeout=PATIENCE)
    assert winner.returncode == 0 and out.split()[:3] == ["Succeeded", "False", "6"], err
    assert len(ledger(tmp_path)) == len(set(ledger(tmp_path))) == 6  # nothing ran twice


@pytest.mark.timeout(PATIENCE * 2)
def test_a_killed_tune_call_is_taken_over_at_once(
    tmp_path: Path, store_url: str, scripts: Callable[..., subprocess.Popen[str]]
) -> None:
    """`kill -9` leaves the lease behind (30 s to run); the next call on this host sees its holder is dead."""
    first = scripts(store_url)
    wait_for(tmp_path / "blocked", first)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    (tmp_path / "gate").touch()  # also lets the orphaned worker of the killed call finish
    second = scripts(store_url)
    out, err = second.communicate(timeout=PATIENCE)
    assert second.returncode == 0 and out.split()[:3] == ["Succeeded", "False", "6"], err
    _, trial_states = stored(store_url)
    assert trial_states.count("Succeeded") == 6
    assert set(trial_states) <= {"Succeeded", "Killed"}


@pytest.mark.timeout(PATIENCE * 2)
def test_experiments_stop_stops_a_tune_caller_s_trials_not_the_caller(
    tmp_path: Path, store_url: str, scripts: Callable[..., subprocess.Popen[str]]
) -> None:
    caller = scripts(store_url)
    wait_for(tmp_path / "blocked", caller)
    stop = subprocess.run(
        [sys.executable, "-m", "tuner.cli", "experiments", "stop", "resumable", "--store", store_url],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=PATIENCE,
    )
    assert stop.returncode == 0, stop.stderr
    assert "stopped resumable (Stopped)" in stop.stderr
    out, err = caller.communicate(timeout=PATIENCE)
    assert caller.returncode == 0, err
    assert out.splitlines() == ["Stopped True 2", "the caller goes on"]
    document, trial_states = stored(store_url)
    assert trial_states == ["Succeeded", "Succeeded", "Killed"]
    assert document["status"]["conditions"][-1]["reason"] == "ExperimentStopped"
    (tmp_path / "gate").touch()
    again = scripts(store_url)
    out, err = again.communicate(timeout=PATIENCE)
    assert out.split()[:3] == ["Succeeded", "False", "6"], err
