"""Suggestions from a real `tuner suggestion-server` subprocess over HTTP (`tuner run --suggestion-service`),
and what happens when that service is down for 30 s: suggestions wait, no trial is lost, nothing fails."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tuner.states import ExperimentState, TrialState
from tuner.store import open_store

ROOT = Path(__file__).resolve().parents[2]
OUTAGE_S = 30.0

GATED = """
import os, time
gate = os.environ["TUNER_TEST_GATE"]
while not os.path.exists(gate):  # the first trials wait until the test took the service down
    time.sleep(0.05)
print(f"loss={(float(args['x']) - 1) ** 2}")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SuggestionServer:
    """`tuner suggestion-server` as a subprocess that can be stopped and started again on its port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tuner.cli",
                "suggestion-server",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "the suggestion server exited"
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError("the suggestion server did not come up")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)


@pytest.fixture
def server() -> Iterator[SuggestionServer]:
    service = SuggestionServer(free_port())
    service.start()
    yield service
    service.stop()


def tuner_run(
    path: Path, store_url: str, *extra: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tuner.cli", "run", str(path), "--store", store_url, *extra],
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_service_down_for_30s_delays_suggestions_and_loses_nothing(
    write_experiment: Callable[..., Path], server: SuggestionServer, tmp_path: Path, sqlite_url: str
) -> None:
    path = write_experiment("remote", GATED, max_trials=6, parallel=2, algorithm="sobol", settings={})
    gate = tmp_path / "gate"
    run = tuner_run(path, sqlite_url, "--suggestion-service", server.url, env={"TUNER_TEST_GATE": str(gate)})
    store = open_store(sqlite_url)
    try:
        deadline = time.monotonic() + 180
        while True:  # the first two trials were suggested by the service and are running
            try:
                trials = store.list_trials(store.get_experiment("remote", "default").id)
            except Exception:
                trials = []
            if len(trials) == 2 and all(t.state == TrialState.RUNNING for t in trials):
                break
            assert run.poll() is None, run.communicate()
            assert time.monotonic() < deadline, "the first trials did not start"
            time.sleep(0.05)
        server.stop()
        stopped = time.time()
        gate.touch()  # the running trials finish while the service is down
        time.sleep(OUTAGE_S)
        during = store.list_trials(store.get_experiment("remote", "default").id)
        server.start()
        restarted = time.time()
        _, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        record = store.get_experiment("remote", "default")
        trials = store.list_trials(record.id)
    finally:
        if run.poll() is None:
            run.kill()
        store.close()
    assert record.state == ExperimentState.SUCCEEDED
    assert sorted(t.number for t in trials) == [0, 1, 2, 3, 4, 5]  # none lost, none repeated
    assert all(t.state == TrialState.SUCCEEDED for t in trials)
    # while the service was down the two running trials ended and nothing new could be suggested
    assert len(during) == 2 and all(t.state == TrialState.SUCCEEDED for t in during)
    assert all(t.completed_at is not None and t.completed_at.timestamp() < restarted for t in during)
    later = [t for t in trials if t.number >= 2]
    assert all(t.created_at.timestamp() >= stopped + OUTAGE_S - 1 for t in later)
    # the user was told, once each, that new trials wait and that the service is back
    assert err.count("note: new trials wait: the suggestion service is unavailable") == 1, err
    assert err.count("note: the suggestion service answers again") == 1, err
    # sobol from the service: six distinct points
    assert len({t.assignments[0].value for t in trials}) == 6


def test_a_bad_suggestion_service_url_is_a_usage_error(
    write_experiment: Callable[..., Path], sqlite_url: str
) -> None:
    path = write_experiment("remote-bad", "print('loss=1')")
    run = tuner_run(path, sqlite_url, "--suggestion-service", "suggest:6789")
    _, err = run.communicate(timeout=300)
    assert run.returncode == 2
    assert "--suggestion-service" in err and "'suggest:6789'" in err and len(err.strip().splitlines()) == 1
