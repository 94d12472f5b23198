"""`tuner experiments|trials|pipelines ... --server URL` (and TUNER_SERVER) as real subprocesses against a
real `tuner server` subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.server.conftest import ROOT, ServerProcess, trial_experiment, wait_for_state
from tests.server.pipeline_samples import expected_total

SQUARE = "print('loss=' + str(float(args['x']) ** 2))"


def _tuner(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "TUNER_SERVER"}
    return subprocess.run(
        [sys.executable, "-m", "tuner.cli", *args],
        env={**base, "PYTHONPATH": str(ROOT), **(env or {})},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_experiment_and_trial_commands_with_server(server: ServerProcess, tmp_path: Path) -> None:
    url = server.url
    good = tmp_path / "remote.yaml"
    good.write_text(yaml.safe_dump(trial_experiment("remote", SQUARE, max_trials=3)))
    assert _tuner("submit", str(good), "--server", url).returncode == 0
    wait_for_state(url, "default", "remote", {"Succeeded", "Failed"})

    listed = _tuner("experiments", "list", "--server", url)
    assert listed.returncode == 0, listed.stderr
    assert "remote" in listed.stdout and "Succeeded" in listed.stdout
    as_json = json.loads(_tuner("experiments", "list", "-o", "json", env={"TUNER_SERVER": url}).stdout)
    assert [e["metadata"]["name"] for e in as_json["items"]] == ["remote"]
    shown = _tuner("experiments", "show", "remote", "--server", url)
    assert shown.returncode == 0 and "best trial: remote-" in shown.stdout and "random" in shown.stdout

    trials = _tuner("trials", "list", "remote", "--server", url, "-o", "csv")
    assert trials.returncode == 0, trials.stderr
    lines = trials.stdout.strip().splitlines()
    assert lines[0].startswith("name,state,params_x") and len(lines) == 4
    name = lines[1].split(",")[0]
    one = json.loads(_tuner("trials", "show", name, "--server", url, "-o", "json").stdout)
    assert one["metadata"]["name"] == name
    logs = _tuner("trials", "logs", name, "--server", url)
    assert logs.returncode == 0 and "loss=" in logs.stdout

    missing = _tuner("experiments", "show", "nope", "--server", url)
    assert missing.returncode == 2 and "nope" in missing.stderr and "Traceback" not in missing.stderr

    deleted = _tuner("experiments", "delete", "remote", "--yes", env={"TUNER_SERVER": url})
    assert deleted.returncode == 0, deleted.stderr
    assert json.loads(_tuner("experiments", "list", "-o", "json", "--server", url).stdout)["items"] == []


def test_pipeline_commands_with_server(server: ServerProcess) -> None:
    url = server.url
    sample = str(ROOT / "tests" / "server" / "pipeline_samples.py")
    ran = _tuner(
        "pipelines",
        "run",
        sample,
        "--pipeline",
        "bytes_total",
        "--arg",
        "size=100",
        "--experiment",
        "cli",
        "--server",
        url,
    )
    assert ran.returncode == 0, ran.stderr
    assert "Succeeded" in ran.stderr
    listed = _tuner("pipelines", "runs", "list", "--server", url, "--experiment", "cli")
    assert listed.returncode == 0 and "Succeeded" in listed.stdout and "bytes-total" in listed.stdout
    run_id = listed.stdout.split()[0]
    detail = json.loads(_tuner("pipelines", "runs", "show", run_id, "--server", url, "-o", "json").stdout)
    totals = [t["outputs"]["Output"] for t in detail["tasks"] if t["name"] == "total"]
    assert totals == [expected_total(100)]
    text = _tuner("pipelines", "runs", "show", run_id, "--server", url)
    assert "make-data -> total (data)" in text.stdout

    bad = _tuner("pipelines", "run", sample, "--pipeline", "bytes_total", "--arg", "nope=1", "--server", url)
    assert bad.returncode == 2 and "arguments.nope" in bad.stderr and "Traceback" not in bad.stderr
