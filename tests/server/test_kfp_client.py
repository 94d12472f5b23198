"""`pipelines.kfp.Client(host=...)` against a real `tuner server` subprocess, used as the seed's code uses
KFP's client: create_run_from_pipeline_func with an experiment name, then KFP-shaped reads and a real wait."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from pipelines import kfp
from tests.server.conftest import ROOT, WAIT_SECONDS, ServerProcess
from tests.server.pipeline_samples import bytes_total, expected_total
from tuner.errors import SpecError

SEED = ROOT / "examples" / "pipelines" / "seed"


def _seed_module() -> dict:
    """The seed's add_numbers.py, imported (its __main__ block does not run)."""
    namespace: dict = {"__name__": "seed_add_numbers"}
    exec(compile((SEED / "add_numbers.py").read_text(), str(SEED / "add_numbers.py"), "exec"), namespace)
    return namespace


def test_seed_pattern_runs_on_the_server_and_reads_back_kfp_shaped(server: ServerProcess) -> None:
    seed = _seed_module()
    client = kfp.Client(host=server.url)
    result = client.create_run_from_pipeline_func(
        seed["calc_pipeline"], arguments={"a": "7", "b": "8"}, experiment_name=seed["EXPERIMENT_NAME"]
    )
    assert result.run_id
    detail = client.wait_for_run_completion(result.run_id, timeout=WAIT_SECONDS)
    assert detail.run.id == result.run_id
    assert detail.run.status == "Succeeded" and detail.state == "SUCCEEDED" and detail.run.error is None
    outputs = sorted(t["outputs"].get("Output") for t in detail.run.tasks)
    assert outputs == [11.0, 15.0, 26.0]  # 7+4, 7+8, then their sum

    experiment = client.get_experiment(experiment_name=seed["EXPERIMENT_NAME"])
    assert experiment.name == "Add number pipeline" and experiment.id
    assert client.create_experiment(seed["EXPERIMENT_NAME"]).id == experiment.id  # get-or-create, as KFP
    runs = client.list_runs(experiment_id=experiment.id).runs
    assert [r.id for r in runs] == [result.run_id]
    assert runs[0].status == "Succeeded" and runs[0].experiment_name == "Add number pipeline"
    assert client.get_run(result.run_id).run.status == "Succeeded"
    assert client.list_runs(experiment_id=client.create_experiment("other").id).runs == []

    with pytest.raises(SpecError) as refused:
        client.create_run_from_pipeline_func(seed["calc_pipeline"], arguments={"c": 1})
    assert "arguments.c" in str(refused.value)
    client.close()


def test_wait_for_run_completion_really_waits_and_times_out(server: ServerProcess, tmp_path: Path) -> None:
    client = kfp.Client(host=server.url)
    slow = client.create_run_from_pipeline_func(bytes_total, arguments={"size": 10, "seconds": 3})
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        client.wait_for_run_completion(slow.run_id, timeout=0.5)
    assert client.get_run(slow.run_id).run.status in ("Pending", "Running")  # not done when it gave up
    detail = slow.wait_for_run_completion(timeout=WAIT_SECONDS)
    assert detail.run.status == "Succeeded"
    assert time.monotonic() - started >= 6  # two tasks of 3 s each: it waited for them
    totals = [t["outputs"]["Output"] for t in detail.run.tasks if t["name"] == "total"]
    assert totals == [expected_total(10)]

    long = client.create_run_from_pipeline_func(bytes_total, arguments={"seconds": 300})
    cancelled = client.cancel_run(long.run_id)
    assert cancelled.run.status == "Cancelled"
    assert client.wait_for_run_completion(long.run_id, timeout=10).run.status == "Cancelled"


def test_seed_script_runs_unchanged_but_for_its_host(server: ServerProcess, tmp_path: Path) -> None:
    """`python hello_world.py` with KUBEFLOW_HOST pointing at the server: the run is the server's."""
    source = (SEED / "hello_world.py").read_text()
    assert 'KUBEFLOW_HOST = "http://127.0.0.1:8080/pipeline"' in source
    script = tmp_path / "hello_world.py"
    script.write_text(source.replace("http://127.0.0.1:8080/pipeline", server.url))
    env = {k: v for k, v in os.environ.items() if k != "TUNER_PIPELINES_HOST"}
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    runs = httpx.get(
        f"{server.url}/api/v1/runs/default", params={"experiment": "hello-world-experiment"}
    ).json()
    (run,) = runs["runs"]
    client = kfp.Client(host=server.url)
    assert client.wait_for_run_completion(run["id"], timeout=WAIT_SECONDS).run.status == "Succeeded"
    log = httpx.get(f"{server.url}/api/v1/runs/default/{run['id']}/tasks/hello-world-component/logs")
    assert "Hello World!" in log.text
