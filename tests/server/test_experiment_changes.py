"""Changing a submitted experiment's counts (PATCH) and reading its suggestion's state, against a real
`tuner server` subprocess."""

from __future__ import annotations

import time

import httpx

from tests.server.conftest import WAIT_SECONDS, ServerProcess, latest_state, trial_experiment, wait_for_state

PROBLEM = "application/problem+json"
SLOW = "import time; time.sleep(0.8); print('loss=' + str(float(args['x']) ** 2))"


def _trial_count(base: str, name: str) -> int:
    return len(httpx.get(f"{base}/api/v1/experiments/default/{name}/trials", timeout=30).json()["items"])


def test_raising_max_trials_on_a_running_experiment_is_taken_up(server: ServerProcess) -> None:
    base = server.url
    reply = httpx.post(
        f"{base}/api/v1/experiments",
        json=trial_experiment("grow", SLOW, max_trials=2, parallel=1),
        timeout=60,
    )
    assert reply.status_code == 201, reply.text
    url = f"{base}/api/v1/experiments/default/grow"

    deadline = time.monotonic() + WAIT_SECONDS
    while _trial_count(base, "grow") < 1:
        assert time.monotonic() < deadline, "no trial started"
        time.sleep(0.1)
    suggestion = httpx.get(f"{url}/suggestion").json()
    assert suggestion["kind"] == "Suggestion"
    assert suggestion["spec"]["algorithm"]["algorithmName"] == "random"
    assert {"name": "random_state", "value": "1"} in suggestion["spec"]["algorithm"]["algorithmSettings"]
    assert suggestion["status"]["state"] in ("Running", "Succeeded")
    assert suggestion["spec"]["requests"] >= 1

    patched = httpx.patch(
        url,
        json={"spec": {"maxTrialCount": 4, "parallelTrialCount": 2}},
        headers={"content-type": "application/merge-patch+json"},
        timeout=60,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["spec"]["maxTrialCount"] == 4
    assert patched.json()["spec"]["parallelTrialCount"] == 2

    done = wait_for_state(base, "default", "grow", {"Succeeded", "Failed"})
    assert latest_state(done) == "Succeeded", done["status"]
    assert _trial_count(base, "grow") == 4  # the driver took the new budget up
    after = httpx.get(f"{url}/suggestion").json()
    assert after["spec"]["requests"] == 4 and after["status"]["suggestionCount"] == 4
    assert after["status"]["state"] == "Succeeded"
    assert after["status"]["trialsByState"] == {"Succeeded": 4}


def test_other_fields_and_bad_counts_are_refused_naming_the_field(server: ServerProcess) -> None:
    base = server.url
    reply = httpx.post(
        f"{base}/api/v1/experiments",
        json=trial_experiment("fixed", SLOW, max_trials=1, parallel=1),
        timeout=60,
    )
    assert reply.status_code == 201, reply.text
    url = f"{base}/api/v1/experiments/default/fixed"
    cases = [
        ({"spec": {"algorithm": {"algorithmName": "grid"}}}, "spec.algorithm"),
        ({"spec": {"parallelTrialCount": 0}}, "spec.parallelTrialCount"),
        ({"spec": {"maxTrialCount": "ten"}}, "spec.maxTrialCount"),
        ({"metadata": {"name": "other"}}, "metadata"),
        ({}, "spec"),
    ]
    for body, path in cases:
        refused = httpx.patch(url, json=body, timeout=60)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.headers["content-type"] == PROBLEM
        assert [p["path"] for p in refused.json()["problems"]] == [path], refused.json()
    assert (
        httpx.patch(f"{base}/api/v1/experiments/default/nope", json={"maxTrialCount": 3}).status_code == 404
    )
    assert httpx.get(f"{base}/api/v1/experiments/default/nope/suggestion").status_code == 404
    stored = httpx.get(url).json()
    assert stored["spec"]["parallelTrialCount"] == 1 and stored["spec"]["maxTrialCount"] == 1


def test_raising_max_trials_restarts_a_finished_long_running_experiment(server: ServerProcess) -> None:
    base = server.url
    document = trial_experiment(
        "again",
        "print('loss=' + str(float(args['x']) ** 2))",
        max_trials=2,
        parallel=2,
        resume_policy="LongRunning",
    )
    assert httpx.post(f"{base}/api/v1/experiments", json=document, timeout=60).status_code == 201
    wait_for_state(base, "default", "again", {"Succeeded", "Failed"})
    assert _trial_count(base, "again") == 2
    patched = httpx.patch(f"{base}/api/v1/experiments/default/again", json={"maxTrialCount": 3}, timeout=60)
    assert patched.status_code == 200, patched.text
    deadline = time.monotonic() + WAIT_SECONDS
    while _trial_count(base, "again") < 3:
        assert time.monotonic() < deadline, "the experiment did not restart"
        time.sleep(0.2)
    done = wait_for_state(base, "default", "again", {"Succeeded", "Failed"})
    assert latest_state(done) == "Succeeded" and done["spec"]["maxTrialCount"] == 3
    assert _trial_count(base, "again") == 3
