"""An experiment whose trials all fail ends Failed, `tuner.tune` raises with the first failure and its log,
and the progress output says why each trial failed (function trials here, process trials through the CLI)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import tuner
from tests.controllers.conftest import ARGS, experiment_document
from tuner.states import ExperimentState, TrialState
from tuner.store import open_store

ROOT = Path(__file__).resolve().parents[2]


def broken(params: dict[str, Any]) -> float:
    raise ValueError(f"cannot handle {params['x']}")


@pytest.mark.parametrize("max_failed", [None, 2])
def test_no_successful_trial_raises_with_the_first_failure(
    sqlite_url: str, max_failed: int | None, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(tuner.ExperimentFailedError) as info:
        tuner.tune(
            broken,
            {"x": tuner.search.int(0, 9)},
            name="broken",
            max_trial_count=3,
            max_failed_trial_count=max_failed,
            algorithm_name="random",
            store=sqlite_url,
            verbose=True,
        )
    error = info.value
    assert isinstance(error, tuner.TunerError)
    assert error.first_failure.startswith("ValueError: cannot handle ")
    assert "test_tune_failures.py" in error.first_failure and "in broken" in error.first_failure
    assert error.log_path is not None and "ValueError: cannot handle" in Path(error.log_path).read_text()
    assert error.trial is not None and error.trial in str(error) and error.log_path in str(error)
    result = error.result
    assert isinstance(result, tuner.TuneResult) and result.state == ExperimentState.FAILED
    assert result.best_trial is None
    db = open_store(sqlite_url)
    try:
        record = db.get_experiment("broken")
        assert record.state == ExperimentState.FAILED
        assert min(db.list_trials(record.id), key=lambda t: t.number).name == error.trial
    finally:
        db.close()
    message = str(error)
    if max_failed is None:
        assert "no trial succeeded" in message and "trial budget is used up" in message
    else:
        assert "max failed count" in message
    # verbose output: why each trial failed, with the exception and where it was raised
    err = capsys.readouterr().err
    failed = [t for t in result.trials if t.state == TrialState.FAILED]
    assert err.count("ValueError: cannot handle") == len(failed) >= 2
    assert err.count("log: ") == len(failed)


def test_failures_after_a_success_return_the_failed_result(sqlite_url: str) -> None:
    calls: list[int] = []

    def first_only(params: dict[str, Any]) -> float:
        calls.append(params["x"])
        if len(calls) > 1:
            raise RuntimeError("only the first call works")
        return 1.0

    result = tuner.tune(
        first_only,
        {"x": tuner.search.int(0, 9)},
        algorithm_name="random",
        max_trial_count=5,
        max_failed_trial_count=2,
        threads=True,
        store=sqlite_url,
        verbose=False,
    )
    assert result.state == ExperimentState.FAILED and result.reason == "ExperimentFailed"
    assert result.best_parameters == {"x": calls[0]} and len(calls) == 3


def test_tuner_run_ends_failed_and_shows_each_trials_last_output(tmp_path: Path) -> None:
    script = "print('loading data'); print(f'bad value {args[\"x\"]}', file=sys.stderr); sys.exit(3)"
    path = tmp_path / "fails.yaml"
    path.write_text(yaml.safe_dump(experiment_document("fails", ARGS + script, max_trials=2, parallel=1)))
    env = {
        **os.environ,
        "TUNER_HOME": str(tmp_path / "home"),
        "TUNER_STORE": f"sqlite:///{tmp_path / 's.db'}",
    }
    done = subprocess.run(
        [sys.executable, "-m", "tuner.cli", "run", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("bad value") == 2 and done.stderr.count("log: ") == 2, done.stderr
    assert "no trial succeeded" in done.stdout
    db = open_store(env["TUNER_STORE"])
    try:
        assert db.get_experiment("fails").state == ExperimentState.FAILED
    finally:
        db.close()
