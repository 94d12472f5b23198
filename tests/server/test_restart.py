"""`kill -9` of the server in the middle of three experiments and two pipeline runs, then a restart on the
same store and data folder: every experiment and run finishes, no trial is lost or run twice, no pipeline
step runs to its end twice (each step appends to a ledger file as it ends; a step whose process outlived
the server is waited out and its outputs kept). On SQLite and on PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from pipelines.compiler.compiler import as_spec
from pipelines.compiler.ir import dump
from tests.server.conftest import WAIT_SECONDS, ServerProcess, latest_state, trial_experiment, wait_for_state
from tests.server.pipeline_samples import bytes_total, expected_total, ledger_counts

# a trial reports its objective once; a trial run twice would show two points in its series
SCRIPT = """
    import time
    time.sleep(2.0)
    print('loss=' + str(float(args['x']) ** 2))
"""
NAMES = ("alpha", "beta", "gamma")
TRIALS = 4
RUN_SIZES = (300, 700)
STEP_SECONDS = 8  # each pipeline step: long enough to be caught running by the kill


def _counts(server: ServerProcess, name: str) -> dict[str, int]:
    items = httpx.get(f"{server.url}/api/v1/experiments/default/{name}/trials").json()["items"]
    out: dict[str, int] = {}
    for trial in items:
        state = trial["status"]["conditions"][-1]["type"]
        out[state] = out.get(state, 0) + 1
    return out


def _run(server: ServerProcess, run_id: str) -> dict:
    reply = httpx.get(f"{server.url}/api/v1/runs/default/{run_id}", timeout=30)
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def _kill_mid_experiments_and_restart(server: ServerProcess, folder: Path) -> None:
    spec = dump(as_spec(bytes_total))
    runs: dict[str, tuple[int, Path]] = {}
    for size in RUN_SIZES:
        ledger = folder / f"ledger-{size}"
        body = {
            "pipelineSpec": spec,
            "arguments": {"size": size, "seconds": STEP_SECONDS, "ledger": str(ledger)},
        }
        reply = httpx.post(f"{server.url}/api/v1/runs/default", json=body, timeout=60)
        assert reply.status_code == 201, reply.text
        runs[reply.json()["id"]] = (size, ledger)
    for name in NAMES:
        reply = httpx.post(
            f"{server.url}/api/v1/experiments",
            json=trial_experiment(name, SCRIPT, max_trials=TRIALS, parallel=2),
            timeout=60,
        )
        assert reply.status_code == 201, reply.text
    # kill once every experiment has a finished trial and every pipeline run has a step running: mid-way
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        counts = {name: _counts(server, name) for name in NAMES}
        steps = {run_id: [t["state"] for t in _run(server, run_id)["tasks"]] for run_id in runs}
        if all(c.get("Succeeded", 0) >= 1 for c in counts.values()) and all(
            "Running" in s for s in steps.values()
        ):
            break
        assert time.monotonic() < deadline, (counts, steps)
        time.sleep(0.05)
    states = {
        name: latest_state(httpx.get(f"{server.url}/api/v1/experiments/default/{name}").json())
        for name in NAMES
    }
    server.kill()
    unfinished = [name for name, state in states.items() if state not in ("Succeeded", "Failed")]
    assert unfinished, "every experiment finished before the kill; the test would prove nothing"

    server.start()
    for name in NAMES:
        done = wait_for_state(server.url, "default", name, {"Succeeded", "Failed"})
        assert latest_state(done) == "Succeeded", done["status"]
        items = httpx.get(f"{server.url}/api/v1/experiments/default/{name}/trials").json()["items"]
        trial_names = [t["metadata"]["name"] for t in items]
        assert len(trial_names) == TRIALS and len(set(trial_names)) == TRIALS, trial_names
        assert [t["status"]["conditions"][-1]["type"] for t in items] == ["Succeeded"] * TRIALS
        for trial in items:
            series = httpx.get(
                f"{server.url}/api/v1/experiments/default/{name}/trials/{trial['metadata']['name']}/metrics"
            ).json()
            assert [len(m["points"]) for m in series["metrics"]] == [1], series  # reported once, not rerun
    for run_id, (size, ledger) in runs.items():
        deadline = time.monotonic() + WAIT_SECONDS
        while (run := _run(server, run_id))["state"] not in ("Succeeded", "Failed", "Cancelled"):
            assert time.monotonic() < deadline, run
            time.sleep(0.2)
        assert run["state"] == "Succeeded", run
        tasks = {t["name"]: t for t in run["tasks"]}
        assert set(tasks) == {"make-data", "total"} and all(t["state"] == "Succeeded" for t in tasks.values())
        assert tasks["total"]["outputs"]["Output"] == expected_total(size)
        assert ledger_counts(ledger) == {"make-data": 1, "total": 1}, (run_id, ledger_counts(ledger))
        # the step caught running by the kill outlived the server; its process was waited out, not rerun
        log = httpx.get(f"{server.url}/api/v1/runs/default/{run_id}/tasks/make-data/logs").text
        assert "started before the restart ended with code 0" in log, log
        assert tasks["make-data"]["attempts"] == 1
    listed = httpx.get(f"{server.url}/api/v1/runs/default").json()["runs"]
    assert sorted(r["id"] for r in listed) == sorted(runs)  # nothing lost, no run made twice


def test_kill_9_mid_experiments_then_restart_on_sqlite(server: ServerProcess, tmp_path: Path) -> None:
    _kill_mid_experiments_and_restart(server, tmp_path)


@pytest.mark.postgres
def test_kill_9_mid_experiments_then_restart_on_postgresql(
    server_factory: Callable[..., ServerProcess], postgres_url: str, tmp_path: Path
) -> None:
    _kill_mid_experiments_and_restart(server_factory(store_url=postgres_url), tmp_path)
