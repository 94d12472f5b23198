"""`tuner.tune` and `tuner.Client` from Python, with worker processes and threads, on a real store."""

from __future__ import annotations

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


def test_early_stopping_with_function_trials(sqlite_url: str) -> None:
    def objective(params: dict[str, Any]) -> None:
        import time

        for step in range(1, 11):
            tuner.report(step=step, accuracy=params["quality"] * step / 10)
            time.sleep(0.05)  # a training step takes time; decisions happen while the trial runs

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
    assert any(t.state == TrialState.EARLY_STOPPED for t in result.trials)


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
import sys, time, tuner

def objective(params):
    time.sleep(0.3)
    return params["x"]

result = tuner.tune(objective, {"x": tuner.search.double(0, 1)}, name="resumable", algorithm_name="random",
                    max_trial_count=6, store=sys.argv[1])
print(result.state.value, result.interrupted, sum(t.state.value == "Succeeded" for t in result.trials))
"""


def test_an_interrupted_tune_call_resumes_by_name(tmp_path: Path) -> None:
    """Ctrl-C in a real process stops the trials cleanly; the same call with the same name finishes the job."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "tune_me.py"
    script.write_text(SCRIPT)
    store = f"sqlite:///{tmp_path / 'store.db'}"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    first = subprocess.Popen([sys.executable, str(script), store], stdout=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # interrupt once it is well under way
        if (tmp_path / "store.db").exists():
            with tuner.Client(store=store) as client:
                try:
                    if len(client.get_success_trial_details("resumable")) >= 2:
                        break
                except Exception:
                    pass
        time.sleep(0.1)
    first.send_signal(signal.SIGINT)
    out, _ = first.communicate(timeout=60)
    state, interrupted, succeeded = out.split()
    assert (state, interrupted) == ("Running", "True") and int(succeeded) < 6
    second = subprocess.run(
        [sys.executable, str(script), store], capture_output=True, text=True, env=env, timeout=120
    )
    assert second.stdout.split() == ["Succeeded", "False", "6"], second.stderr
