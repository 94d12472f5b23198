"""`kill -9` of the server in the middle of several experiments, then a restart: every experiment finishes,
no trial is lost or run twice. On SQLite and on PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from tests.server.conftest import WAIT_SECONDS, ServerProcess, latest_state, trial_experiment, wait_for_state

# a trial reports its objective once; a trial run twice would show two points in its series
SCRIPT = """
    import time
    time.sleep(0.6)
    print('loss=' + str(float(args['x']) ** 2))
"""
NAMES = ("alpha", "beta", "gamma")
TRIALS = 4


def _counts(server: ServerProcess, name: str) -> dict[str, int]:
    items = httpx.get(f"{server.url}/api/v1/experiments/default/{name}/trials").json()["items"]
    out: dict[str, int] = {}
    for trial in items:
        state = trial["status"]["conditions"][-1]["type"]
        out[state] = out.get(state, 0) + 1
    return out


def _kill_mid_experiments_and_restart(server: ServerProcess) -> None:
    for name in NAMES:
        reply = httpx.post(
            f"{server.url}/api/v1/experiments",
            json=trial_experiment(name, SCRIPT, max_trials=TRIALS, parallel=2),
            timeout=60,
        )
        assert reply.status_code == 201, reply.text
    # kill once every experiment has a finished trial and none has finished: truly mid-way
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        counts = {name: _counts(server, name) for name in NAMES}
        if all(c.get("Succeeded", 0) >= 1 for c in counts.values()):
            break
        assert time.monotonic() < deadline, counts
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
    log = server.log.read_text()
    assert "resumed" in log and all(f"default/{name}" in log for name in unfinished), log


def test_kill_9_mid_experiments_then_restart_on_sqlite(server: ServerProcess) -> None:
    _kill_mid_experiments_and_restart(server)


@pytest.mark.postgres
def test_kill_9_mid_experiments_then_restart_on_postgresql(
    server_factory: Callable[..., ServerProcess], postgres_url: str
) -> None:
    _kill_mid_experiments_and_restart(server_factory(store_url=postgres_url))
