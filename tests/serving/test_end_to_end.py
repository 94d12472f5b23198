"""The issue's path as a user runs it, in real processes: `tuner run` (process trials that call
`tuner.log_model`), `tuner models promote`, `tuner models ...`, `tuner serve`, and a V2 request."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.serving.conftest import v2_body

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

EXPERIMENT = """
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: tiny-digits
spec:
  objective: {type: maximize, objectiveMetricName: accuracy}
  algorithm: {algorithmName: grid}
  parallelTrialCount: 2
  maxTrialCount: 2
  parameters:
    - name: c
      parameterType: discrete
      feasibleSpace: {list: ["0.0001", "1.0"]}
  trialTemplate:
    primaryContainerName: main
    trialParameters:
      - {name: c, reference: c}
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            containers:
              - name: main
                image: unused
                command: ["python3", "%s", "--c=${trialParameters.c}"]
"""


def tuner_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tuner.cli", *args], capture_output=True, text=True, timeout=300, env=env
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "TUNER_STORE": f"sqlite:///{tmp_path / 'tuner.db'}"}


def test_run_promote_serve_answers_a_v2_request(tmp_path: Path, env: dict[str, str]) -> None:
    spec = tmp_path / "experiment.yaml"
    spec.write_text(EXPERIMENT % (HERE / "tiny_train.py"), encoding="utf-8")
    run = tuner_cli("run", str(spec), env=env)
    assert run.returncode == 0, run.stderr + run.stdout

    promoted = tuner_cli(
        "models", "promote", "tiny-digits", "--model", "tiny", "--alias", "production", env=env
    )
    assert promoted.returncode == 0, promoted.stderr
    assert "tiny@production -> v1" in promoted.stderr
    again = tuner_cli("models", "promote", "tiny-digits", "--model", "tiny", "--alias", "production", env=env)
    assert "already registered as models:/tiny/1" in again.stderr  # registering is idempotent

    shown = json.loads(tuner_cli("models", "show", "models:/tiny@production", "-o", "json", env=env).stdout)
    assert shown["source"]["experiment"] == "tiny-digits"
    assert shown["source"]["parameters"] == {"c": "1.0"}  # the better trial (lineage to its assignment)
    assert shown["digest"].startswith("sha256:") and shown["flavor"] == "sklearn"
    assert shown["inputs"] == [{"name": "input-0", "datatype": "FP64", "shape": [-1, 64]}]
    assert len(shown["inputExample"]) == 3
    assert [e["kind"] for e in shown["history"]] == ["version_created", "alias_set"]

    missing = tuner_cli("models", "show", "tiny@nope", env=env)
    assert missing.returncode == 2 and "has no alias 'nope'" in missing.stderr
    assert "Traceback" not in missing.stderr
    bad = tuner_cli("serve", "tiny@nope", "--port", "0", env=env)
    assert bad.returncode == 2 and "has no alias 'nope'" in bad.stderr

    server = subprocess.Popen(
        [sys.executable, "-m", "tuner.cli", "serve", "tiny@production", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert server.stderr is not None
        line = ""
        while "listening on" not in line:
            line = server.stderr.readline()
            assert line, "tuner serve exited before listening"
        url = line.split("listening on ")[1].strip()
        from sklearn.datasets import load_digits

        x, y = load_digits(return_X_y=True)
        with httpx.Client(base_url=url, timeout=30) as http:
            ready = http.get("/v2/health/ready")
            while ready.status_code != 200:  # the lifespan start-up finishes right after the port opens
                ready = http.get("/v2/health/ready")
            answer = http.post("/v2/models/tiny/infer", json=v2_body(x[1500:1510])).json()
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert answer["model_name"] == "tiny" and answer["model_version"] == "1"
    predictions = np.asarray(answer["outputs"][0]["data"])
    assert (predictions == y[1500:1510]).mean() >= 0.7  # a real digits model answered


def test_models_cli_list_versions_alias_delete(tmp_path: Path, env: dict[str, str]) -> None:
    from serving.logged import save_to_store
    from serving.registry import Registry
    from tests.serving.models_for_tests import digits
    from tuner.config import Settings
    from tuner.store import open_store

    store = open_store(env["TUNER_STORE"])
    try:
        model, x, _ = digits()
        logged = save_to_store(
            store, Settings.from_env(env), model, "d", flavor="sklearn", input_example=x[:2]
        )
        registry = Registry(store, actor="test")
        registry.register("d", logged.artifact)
        other = save_to_store(
            store, Settings.from_env(env), digits(0.1)[0], "d", flavor="sklearn", input_example=x[:2]
        )
        registry.register("d", other.artifact)
    finally:
        store.close()
    assert tuner_cli("models", "alias", "d", "champion", "2", env=env).returncode == 0
    listed = json.loads(tuner_cli("models", "list", "-o", "json", env=env).stdout)
    assert listed == {"models": [{"name": "d", "versions": 2, "aliases": {"champion": 2}}]}
    versions = json.loads(tuner_cli("models", "versions", "d", "-o", "json", env=env).stdout)["versions"]
    assert [v["uri"] for v in versions] == ["models:/d/1", "models:/d/2"]
    reserved = tuner_cli("models", "alias", "d", "latest", "1", env=env)
    assert reserved.returncode == 2 and "reserved" in reserved.stderr
    assert tuner_cli("models", "alias", "d", "champion", "--delete", env=env).returncode == 0
    history = json.loads(tuner_cli("models", "show", "d/1", "-o", "json", env=env).stdout)["history"]
    assert [e["kind"] for e in history][-2:] == ["alias_set", "alias_deleted"]
    assert tuner_cli("models", "delete", "d", "--yes", env=env).returncode == 0
    gone = tuner_cli("models", "show", "d", env=env)
    assert gone.returncode == 2 and "does not exist" in gone.stderr
