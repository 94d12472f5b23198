"""The clients of a running server: `tuner submit` (a real subprocess) and `tuner.Client(host=...)`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.server.conftest import ROOT, ServerProcess, trial_experiment, wait_for_state
from tuner.client import Client
from tuner.errors import NotFoundError, TunerError

SQUARE = "print('loss=' + str(float(args['x']) ** 2))"


def _tuner(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tuner.cli", *args],
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_tuner_submit_and_client_host(server: ServerProcess, tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(trial_experiment("remote", SQUARE, max_trials=3)))
    done = _tuner("submit", str(good), "--server", server.url)
    assert done.returncode == 0, done.stderr
    assert f"{server.url}/api/v1/experiments/default/remote" in done.stderr

    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(trial_experiment("other", SQUARE, parallel=0)))
    refused = _tuner("submit", str(bad), env={"TUNER_SERVER": server.url})
    assert refused.returncode == 2
    assert "spec.parallelTrialCount" in refused.stderr and "Traceback" not in refused.stderr

    nowhere = _tuner("submit", str(good))
    assert nowhere.returncode == 2 and "TUNER_SERVER" in nowhere.stderr

    wait_for_state(server.url, "default", "remote", {"Succeeded", "Failed"})
    with Client(host=server.url) as client:
        assert [e["metadata"]["name"] for e in client.list_experiments()] == ["remote"]
        assert client.list_experiments(namespace="elsewhere") == []
        assert client.is_experiment_succeeded("remote")
        best = client.get_optimal_hyperparameters("remote")
        assert best is not None and best["bestTrialName"].startswith("remote-")
        trials = client.list_trials("remote")
        assert len(trials) == 3
        names = {t["metadata"]["name"] for t in trials}
        assert best["bestTrialName"] in names
        one = client.get_trial(best["bestTrialName"], "remote")
        assert one["spec"]["parameterAssignments"] == best["parameterAssignments"]
        assert len(client.get_success_trial_details("remote")) == 3
        with pytest.raises(NotFoundError, match="nope"):
            client.get_experiment("nope")
        with pytest.raises(TunerError, match="store"):
            client.trials_dataframe("remote")


def test_server_refuses_a_root_path_it_cannot_serve() -> None:
    done = _tuner("server", "--root-path", "tuner/", "--port", "0")
    assert done.returncode == 2
    assert "--root-path" in done.stderr and "Traceback" not in done.stderr
