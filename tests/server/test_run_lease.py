"""Several `tuner server` processes on one store and data folder never drive one pipeline run twice: a
server starting while another drives a run leaves it alone (the run's lease in the store); a server that
starts after the driving one was killed takes the run over and finishes it. Each step ends once (ledger).
On SQLite and on PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pipelines.compiler.compiler import as_spec
from pipelines.compiler.ir import dump
from tests.server.conftest import WAIT_SECONDS, ServerProcess
from tests.server.pipeline_samples import bytes_total, expected_total, ledger_counts

STEP_SECONDS = 5
LONG_STEP_SECONDS = 90  # the first run: still running however long the second server takes to start


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tuner.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for server in started:
        server.stop()


def _start(servers: list[ServerProcess], home: Path, url: str) -> ServerProcess:
    server = ServerProcess(home, url)
    servers.append(server)
    server.start()
    return server


def _submit(server: ServerProcess, ledger: Path, seconds: float = STEP_SECONDS) -> str:
    body = {
        "pipelineSpec": dump(as_spec(bytes_total)),
        "arguments": {"size": 50, "seconds": seconds, "ledger": str(ledger)},
    }
    reply = httpx.post(f"{server.url}/api/v1/runs/default", json=body, timeout=60)
    assert reply.status_code == 201, reply.text
    return str(reply.json()["id"])


def _get(server: ServerProcess, run_id: str) -> dict:
    return dict(httpx.get(f"{server.url}/api/v1/runs/default/{run_id}", timeout=30).json())


def _wait(server: ServerProcess, run_id: str, done: bool) -> dict:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        run = _get(server, run_id)
        if done and run["state"] in ("Succeeded", "Failed", "Cancelled"):
            return run
        if not done and any(t["state"] == "Running" for t in run["tasks"]):
            return run
        assert time.monotonic() < deadline, run
        time.sleep(0.1)


def test_a_second_server_leaves_a_driven_run_alone_and_takes_over_a_dead_ones(
    servers: list[ServerProcess], tmp_path: Path, store_url: str
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    first = _start(servers, home, store_url)
    ledger = tmp_path / "ledger-1"
    run_id = _submit(first, ledger, LONG_STEP_SECONDS)
    _wait(first, run_id, done=False)

    second = _start(servers, home, store_url)  # resumes unfinished runs at start: not this one, it is driven
    refused = httpx.post(f"{second.url}/api/v1/runs/default/{run_id}/cancel", timeout=60)
    assert refused.status_code == 409 and "driven by" in refused.json()["detail"], refused.text
    seen = _get(second, run_id)
    assert seen["state"] == "Running" and [(t["name"], t["attempts"]) for t in seen["tasks"]] == [
        ("make-data", 1)
    ]
    cancelled = httpx.post(f"{first.url}/api/v1/runs/default/{run_id}/cancel", timeout=60)  # its driver can
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "Cancelled", cancelled.text
    assert ledger_counts(ledger) == {}  # the long step never ran to its end, by either server

    other = tmp_path / "ledger-2"
    second_run = _submit(first, other)
    _wait(first, second_run, done=False)
    first.kill()
    third = _start(servers, home, store_url)  # the driver is dead: this one takes the run over
    finished = _wait(third, second_run, done=True)
    assert finished["state"] == "Succeeded", finished
    totals = [t["outputs"]["Output"] for t in finished["tasks"] if t["name"] == "total"]
    assert totals == [expected_total(50)]
    assert ledger_counts(other) == {"make-data": 1, "total": 1}
    assert _get(third, run_id)["state"] == "Cancelled"  # a cancelled run is not resumed
