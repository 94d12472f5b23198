"""The REST API of a real `tuner server` subprocess: submit, read, stop, delete; errors as problem+json."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import yaml

from tests.server.conftest import WAIT_SECONDS, ServerProcess, latest_state, trial_experiment, wait_for_state

PROBLEM = "application/problem+json"
SQUARE = "import time; time.sleep(0.2); print('loss=' + str(float(args['x']) ** 2))"


def _submit_yaml(server: ServerProcess, document: dict) -> httpx.Response:
    return httpx.post(
        f"{server.url}/api/v1/experiments",
        content=yaml.safe_dump(document),
        headers={"content-type": "application/yaml"},
        timeout=60,
    )


def test_submitted_experiment_runs_and_every_read_endpoint_answers(server: ServerProcess) -> None:
    base = server.url
    reply = _submit_yaml(server, trial_experiment("squares", SQUARE, max_trials=4, parallel=2))
    assert reply.status_code == 201, reply.text
    assert reply.headers["location"] == "/api/v1/experiments/default/squares"
    assert reply.json()["metadata"]["name"] == "squares"

    done = wait_for_state(base, "default", "squares", {"Succeeded", "Failed"})
    assert latest_state(done) == "Succeeded"
    best = done["status"]["currentOptimalTrial"]
    assert best["bestTrialName"].startswith("squares-")

    listed = httpx.get(
        f"{base}/api/v1/experiments", params={"namespace": "default", "state": "Succeeded"}
    ).json()
    assert [e["metadata"]["name"] for e in listed["items"]] == ["squares"]
    assert httpx.get(f"{base}/api/v1/experiments", params={"state": "Running"}).json()["items"] == []
    assert httpx.get(f"{base}/api/v1/experiments", params={"namespace": "other"}).json()["items"] == []

    trials_url = f"{base}/api/v1/experiments/default/squares/trials"
    first = httpx.get(trials_url, params={"limit": 3}).json()
    assert len(first["items"]) == 3 and first["metadata"]["continue"]
    second = httpx.get(trials_url, params={"limit": 3, "cursor": first["metadata"]["continue"]}).json()
    assert len(second["items"]) == 1 and second["metadata"]["continue"] == ""
    trials = first["items"] + second["items"]
    names = [t["metadata"]["name"] for t in trials]
    assert len(set(names)) == 4
    assert all(t["status"]["conditions"][-1]["type"] == "Succeeded" for t in trials)
    assert best["bestTrialName"] in names

    name = names[0]
    trial = httpx.get(f"{trials_url}/{name}").json()
    x = float(trial["spec"]["parameterAssignments"][0]["value"])
    series = httpx.get(f"{trials_url}/{name}/metrics").json()
    assert series["trial"] == name
    (loss,) = series["metrics"]
    assert loss["name"] == "loss" and len(loss["points"]) == 1
    assert abs(loss["points"][0]["value"] - x**2) < 1e-6 * max(1.0, x**2)
    logs = httpx.get(f"{trials_url}/{name}/logs")
    assert logs.status_code == 200 and logs.headers["content-type"].startswith("text/plain")
    assert "loss=" in logs.text

    metrics = httpx.get(f"{base}/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    assert (
        'tuner_server_requests_total{method="POST",route="/api/v1/experiments",status="201"} 1.0'
        in metrics.text
    )
    assert "tuner_server_request_duration_seconds_bucket" in metrics.text
    assert "tuner_server_running_trials 0.0" in metrics.text


def test_invalid_experiment_is_refused_with_every_problem_and_nothing_is_stored(
    server: ServerProcess,
) -> None:
    document = trial_experiment("bad", SQUARE, parallel=-1)
    document["spec"]["parameters"][0]["feasibleSpace"]["min"] = "9"
    reply = httpx.post(f"{server.url}/api/v1/experiments", json=document, timeout=60)
    assert reply.status_code == 422
    assert reply.headers["content-type"] == PROBLEM
    body = reply.json()
    assert body["status"] == 422
    paths = [p["path"] for p in body["problems"]]
    assert paths == ["spec.parallelTrialCount", "spec.parameters[0].feasibleSpace"]
    assert httpx.get(f"{server.url}/api/v1/experiments").json()["items"] == []
    assert not (server.home / "submitted" / "default" / "bad").exists()

    # names that no file call could take (a NUL, '..') are refused naming the field, not a 500
    for field, value in (("namespace", "team\u0000a"), ("namespace", ".."), ("name", "bad\u0000")):
        odd = trial_experiment("odd", SQUARE)
        odd["metadata"][field] = value
        reply = httpx.post(f"{server.url}/api/v1/experiments", json=odd, timeout=60)
        assert reply.status_code == 422, reply.text
        assert [p["path"] for p in reply.json()["problems"]] == [f"metadata.{field}"]

    # what only `tuner run` refuses (cannot run on this machine) is refused here too
    gpu = trial_experiment("gpu", SQUARE)
    container = gpu["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["resources"] = {"limits": {"nvidia.com/gpu": "64"}}
    reply = _submit_yaml(server, gpu)
    assert reply.status_code == 422, reply.text
    assert any("gpu" in p["message"].lower() for p in reply.json()["problems"])

    broken = httpx.post(
        f"{server.url}/api/v1/experiments",
        content="spec: [1,\n",
        headers={"content-type": "application/yaml"},
    )
    assert broken.status_code == 422 and broken.headers["content-type"] == PROBLEM
    assert "line" in broken.json()["problems"][0]["message"]


def test_every_error_is_a_problem_body(server: ServerProcess) -> None:
    base = server.url
    cases = [
        ("GET", "/api/v1/experiments/default/nope", 404),
        ("GET", "/api/v1/experiments/default/nope/trials", 404),
        ("GET", "/api/v1/experiments/default/nope/trials/t1/logs", 404),
        ("POST", "/api/v1/experiments/default/nope/stop", 404),
        ("DELETE", "/api/v1/experiments/default/nope", 404),
        ("GET", "/api/v1/experiments?cursor=garbage!", 422),
        ("GET", "/api/v1/experiments?state=Sleeping", 422),
        ("GET", "/api/v1/experiments?limit=0", 422),
        ("GET", "/api/v1/experiments?limit=1.0", 422),  # pydantic alone would read 1
        ("GET", "/api/v1/runs/default?limit=5_0", 422),  # ... and 50
        ("GET", "/no/such/route", 404),
        ("PUT", "/api/v1/experiments", 405),
        ("POST", "/api/v1/experiments", 422),  # empty body
    ]
    for method, path, status in cases:
        reply = httpx.request(method, base + path)
        assert reply.status_code == status, (method, path, reply.text)
        assert reply.headers["content-type"] == PROBLEM, (method, path)
        body = reply.json()
        assert body["status"] == status and body["title"] and body["detail"], (method, path, body)
    assert "nope" in httpx.get(f"{base}/api/v1/experiments/default/nope").json()["detail"]
    [problem] = httpx.get(f"{base}/api/v1/experiments?limit=1.0").json()["problems"]
    assert "limit" in problem["path"] and "'1.0' is not a whole number" in problem["message"], problem
    assert httpx.get(f"{base}/api/v1/experiments?limit=2").status_code == 200

    # the OpenAPI documents the problem body on every API route, and /metrics as text
    spec = httpx.get(f"{base}/api/v1/openapi.json").json()
    for path, operations in spec["paths"].items():
        if not path.startswith("/api/v1"):
            continue
        for method, operation in operations.items():
            assert "application/problem+json" in operation["responses"]["404"]["content"], (method, path)
            assert "application/problem+json" in operation["responses"]["422"]["content"], (method, path)
    assert "text/plain" in "".join(spec["paths"]["/metrics"]["get"]["responses"]["200"]["content"])


def test_logs_follow_streams_until_the_trial_ends(server: ServerProcess) -> None:
    script = """
        import sys, time
        print('first line', flush=True)
        time.sleep(1.5)
        print('loss=1.0', flush=True)
    """
    reply = _submit_yaml(server, trial_experiment("slow", script, max_trials=1, parallel=1))
    assert reply.status_code == 201, reply.text
    trials_url = f"{server.url}/api/v1/experiments/default/slow/trials"
    deadline = time.monotonic() + WAIT_SECONDS
    while not (items := httpx.get(trials_url).json()["items"]):
        assert time.monotonic() < deadline, "no trial was created"
        time.sleep(0.1)
    name = items[0]["metadata"]["name"]
    with httpx.stream(
        "GET", f"{trials_url}/{name}/logs", params={"follow": "true"}, timeout=WAIT_SECONDS
    ) as stream:
        assert stream.status_code == 200
        text = "".join(stream.iter_text())
    # the stream ended by itself, and only once the trial had finished and written its last line
    assert "first line" in text and "loss=1.0" in text
    trial = httpx.get(f"{trials_url}/{name}").json()
    assert trial["status"]["conditions"][-1]["type"] == "Succeeded"


def test_stop_then_delete(server: ServerProcess) -> None:
    reply = _submit_yaml(server, trial_experiment("long", "import time; time.sleep(300)", max_trials=2))
    assert reply.status_code == 201
    base = f"{server.url}/api/v1/experiments/default/long"
    deadline = time.monotonic() + WAIT_SECONDS
    while not httpx.get(f"{base}/trials").json()["items"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    again = _submit_yaml(server, trial_experiment("long", "import time; time.sleep(300)", max_trials=2))
    assert again.status_code == 409 and again.headers["content-type"] == PROBLEM

    stopped = httpx.post(f"{base}/stop", timeout=WAIT_SECONDS)
    assert stopped.status_code == 200, stopped.text
    assert latest_state(stopped.json()) not in ("Succeeded", "Failed")
    assert httpx.post(f"{base}/stop").status_code == 409  # not running any more

    assert httpx.delete(base, timeout=WAIT_SECONDS).status_code == 204
    assert httpx.get(base).status_code == 404
    assert not (server.home / "submitted" / "default" / "long").exists()


def test_root_path_for_a_reverse_proxy(server_factory: Callable[..., ServerProcess]) -> None:
    server = server_factory(root_path="/tuner")
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
    spec = httpx.get(f"{server.url}/api/v1/openapi.json").json()
    assert spec["servers"] == [{"url": "/tuner"}]
    reply = _submit_yaml(server, trial_experiment("prefixed", SQUARE, max_trials=1, parallel=1))
    assert reply.headers["location"] == "/tuner/api/v1/experiments/default/prefixed"


def _running_experiments(server: ServerProcess) -> int:
    return int(httpx.get(f"{server.url}/readyz").json()["running_experiments"])


def test_a_restart_resumes_running_experiments_but_not_stopped_ones(server: ServerProcess) -> None:
    sleeper = "import time; time.sleep(300)"
    for name in ("kept", "halted"):
        assert (
            _submit_yaml(server, trial_experiment(name, sleeper, max_trials=2, parallel=1)).status_code == 201
        )
    deadline = time.monotonic() + WAIT_SECONDS
    while "tuner_server_running_trials 2.0" not in httpx.get(f"{server.url}/metrics").text:
        assert time.monotonic() < deadline, httpx.get(f"{server.url}/metrics").text
        time.sleep(0.1)
    assert (
        httpx.post(f"{server.url}/api/v1/experiments/default/halted/stop", timeout=WAIT_SECONDS).status_code
        == 200
    )
    assert _running_experiments(server) == 1

    server.stop()  # SIGTERM: a clean shutdown stops the threads without marking anything stopped
    server.start()
    assert _running_experiments(server) == 1
    assert httpx.post(f"{server.url}/api/v1/experiments/default/halted/stop").status_code == 409
    assert httpx.post(f"{server.url}/api/v1/experiments/default/kept/resume").status_code == 409  # running

    resumed = httpx.post(f"{server.url}/api/v1/experiments/default/halted/resume", timeout=WAIT_SECONDS)
    assert resumed.status_code == 200, resumed.text
    assert _running_experiments(server) == 2
    for name in ("kept", "halted"):
        stopped = httpx.post(f"{server.url}/api/v1/experiments/default/{name}/stop", timeout=WAIT_SECONDS)
        assert stopped.status_code == 200, stopped.text
