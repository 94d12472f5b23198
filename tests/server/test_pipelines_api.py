"""Pipelines and runs over the REST API of a real `tuner server` subprocess: upload a compiled package,
run it with arguments in the background (several at once), read the task graph and logs, cancel."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.server.conftest import WAIT_SECONDS, ServerProcess
from tests.server.pipeline_samples import compiled, expected_total, ledger_counts

PROBLEM = "application/problem+json"
FINISHED = {"Succeeded", "Failed", "Cancelled"}


def upload(server: ServerProcess, package: Path, **params: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/api/v1/pipelines/default",
        content=package.read_bytes(),
        headers={"content-type": "application/yaml"},
        params=params,
        timeout=60,
    )


def start_run(server: ServerProcess, body: dict[str, Any], namespace: str = "default") -> httpx.Response:
    return httpx.post(f"{server.url}/api/v1/runs/{namespace}", json=body, timeout=60)


def wait_run(
    server: ServerProcess, run_id: str, states: set[str] = FINISHED, namespace: str = "default"
) -> dict:
    deadline = time.monotonic() + WAIT_SECONDS
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        reply = httpx.get(f"{server.url}/api/v1/runs/{namespace}/{run_id}", timeout=30)
        assert reply.status_code == 200, reply.text
        last = reply.json()
        if last["state"] in states:
            return last
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} never reached {states}: {last}")


def test_upload_run_and_read_the_task_graph(server: ServerProcess, tmp_path: Path) -> None:
    package = compiled(tmp_path)
    first = upload(server, package)
    assert first.status_code == 201, first.text
    assert first.json()["name"] == "bytes-total"
    assert first.json()["uploadedVersion"]["name"] == "v1"
    assert set(first.json()["parameters"]) == {"size", "seconds", "ledger"}
    again = upload(server, package)
    assert (
        again.status_code == 200
        and again.json()["uploadedVersion"]["id"] == first.json()["uploadedVersion"]["id"]
    )
    listed = httpx.get(f"{server.url}/api/v1/pipelines/default").json()
    assert [p["name"] for p in listed["pipelines"]] == ["bytes-total"]
    assert httpx.get(f"{server.url}/api/v1/pipelines/other").json()["pipelines"] == []
    version = httpx.get(f"{server.url}/api/v1/pipelines/default/bytes-total/versions/v1").json()
    assert version["spec"]["pipeline"]["name"] == "bytes-total"

    ledger = tmp_path / "ledger"
    reply = start_run(
        server,
        {
            "pipeline": "bytes-total",
            "arguments": {"size": 1000, "ledger": str(ledger)},
            "experimentName": "exp-a",
        },
    )
    assert reply.status_code == 201, reply.text
    run_id = reply.json()["id"]
    assert reply.headers["location"] == f"/api/v1/runs/default/{run_id}"
    assert reply.json()["experimentName"] == "exp-a"
    assert reply.json()["arguments"] == {"size": 1000, "seconds": 0.0, "ledger": str(ledger)}

    done = wait_run(server, run_id)
    assert done["state"] == "Succeeded", done
    tasks = {t["name"]: t for t in done["tasks"]}
    assert set(tasks) == {"make-data", "total"}
    assert all(t["state"] == "Succeeded" and t["attempts"] == 1 for t in tasks.values())
    assert all(t["durationSeconds"] is not None and t["durationSeconds"] >= 0 for t in tasks.values())
    assert tasks["total"]["outputs"]["Output"] == expected_total(1000)
    assert done["edges"] == [{"from": "make-data", "to": "total", "kind": "data"}]
    assert done["taskCounts"] == {"Succeeded": 2}
    assert ledger_counts(ledger) == {"make-data": 1, "total": 1}
    written = [a for a in tasks["make-data"]["artifacts"] if a["direction"] == "OUTPUT"]
    read = [a for a in tasks["total"]["artifacts"] if a["direction"] == "INPUT"]
    assert len(written) == 1 and [a["id"] for a in read] == [written[0]["id"]]

    log = httpx.get(f"{server.url}/api/v1/runs/default/{run_id}/tasks/total/logs")
    assert log.status_code == 200 and f"total {expected_total(1000)}" in log.text
    followed = httpx.get(
        f"{server.url}/api/v1/runs/default/{run_id}/tasks/make-data/logs",
        params={"follow": "true"},
        timeout=60,
    )
    assert "making 1000 bytes" in followed.text

    assert [
        r["id"]
        for r in httpx.get(f"{server.url}/api/v1/runs/default", params={"experiment": "exp-a"}).json()["runs"]
    ] == [run_id]
    assert httpx.get(f"{server.url}/api/v1/runs/default", params={"experiment": "exp-b"}).json()["runs"] == []
    experiments = httpx.get(f"{server.url}/api/v1/pipeline-experiments/default").json()["experiments"]
    assert [e["name"] for e in experiments] == ["exp-a"]
    assert (
        httpx.get(f"{server.url}/api/v1/runs/other/{run_id}").status_code == 404
    )  # another namespace's view


def test_bad_requests_are_problems_and_store_nothing(server: ServerProcess, tmp_path: Path) -> None:
    garbage = httpx.post(
        f"{server.url}/api/v1/pipelines/default",
        content=b"kind: Workflow\n",
        headers={"content-type": "application/yaml"},
    )
    assert garbage.status_code == 422 and garbage.headers["content-type"] == PROBLEM
    assert garbage.json()["problems"][0]["path"] == "schemaVersion"
    binary = httpx.post(
        f"{server.url}/api/v1/pipelines/default",
        content=b"\xcc\x4a\x18\xff",
        headers={"content-type": "application/octet-stream"},
    )
    assert binary.status_code == 422 and binary.json()["problems"][0]["path"] == "body", binary.text
    assert upload(server, compiled(tmp_path)).status_code == 201
    cases = [
        ({"pipeline": "bytes-total", "arguments": {"nope": 1}}, "arguments.nope"),
        ({"pipeline": "bytes-total", "arguments": {"size": "many"}}, "arguments.size"),
        ({"arguments": {}}, "pipeline"),
    ]
    for body, path in cases:
        reply = start_run(server, body)
        assert reply.status_code == 422, reply.text
        assert reply.headers["content-type"] == PROBLEM
        assert path in [p["path"] for p in reply.json()["problems"]], reply.json()
    assert start_run(server, {"pipeline": "missing"}).status_code == 404
    assert httpx.get(f"{server.url}/api/v1/runs/default").json()["runs"] == []
    for path in (
        "/api/v1/runs/default/999",
        "/api/v1/runs/default/abc",
        "/api/v1/runs/default/99999999999999999999999",
        "/api/v1/runs/default/%C2%B3",  # "³": str.isdigit() says yes, int() says no
        "/api/v1/pipelines/default/missing",
        "/api/v1/pipeline-experiments/default/missing",
    ):
        reply = httpx.get(server.url + path)
        assert reply.status_code == 404 and reply.headers["content-type"] == PROBLEM, path
    for name in (
        "nul\u0000name",
        "../up",
        "lone\udc80surrogate",
        "\u00e9" * 120,
    ):  # no file could have these names
        reply = httpx.post(
            f"{server.url}/api/v1/pipeline-experiments/default",
            content=json.dumps({"name": name}),  # as sent: httpx's json= would refuse the surrogate
            headers={"content-type": "application/json"},
        )
        assert reply.status_code == 422 and reply.json()["problems"][0]["path"] == "name", (name, reply.text)
    above = httpx.get(
        f"{server.url}/api/v1/pipeline-experiments/%2E%2E"
    )  # namespace "..": not the folder above
    assert above.status_code == 404 and "no namespace '..'" in above.json()["detail"], above.text
    assert httpx.get(f"{server.url}/api/v1/pipeline-experiments/{'n' * 300}").status_code == 404  # no OSError


def test_several_runs_at_once_inline_spec_and_cancel(server: ServerProcess, tmp_path: Path) -> None:
    spec = yaml.safe_load(compiled(tmp_path).read_text())
    ledger = tmp_path / "ledger"
    ids = []
    for size in (10, 20, 30):
        reply = start_run(
            server, {"pipelineSpec": spec, "arguments": {"size": size, "seconds": 0.5, "ledger": str(ledger)}}
        )
        assert reply.status_code == 201, reply.text
        ids.append(reply.json()["id"])
    slow = start_run(
        server, {"pipelineSpec": spec, "arguments": {"seconds": 300, "ledger": str(ledger)}}
    ).json()["id"]
    for run_id, size in zip(ids, (10, 20, 30), strict=True):
        done = wait_run(server, run_id)
        assert done["state"] == "Succeeded", done
        assert {t["name"]: t for t in done["tasks"]}["total"]["outputs"]["Output"] == expected_total(size)
    assert ledger_counts(ledger) == {"make-data": 3, "total": 3}

    running = wait_run(server, slow, {"Running"})
    deadline = time.monotonic() + WAIT_SECONDS
    while not any(t["state"] == "Running" for t in running["tasks"]):
        assert time.monotonic() < deadline
        time.sleep(0.2)
        running = wait_run(server, slow, {"Running"})
    cancelled = httpx.post(f"{server.url}/api/v1/runs/default/{slow}/cancel", timeout=60)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"] == "Cancelled"
    assert {t["name"]: t["state"] for t in cancelled.json()["tasks"]} == {"make-data": "Cancelled"}
    again = httpx.post(f"{server.url}/api/v1/runs/default/{slow}/cancel", timeout=60)
    assert again.status_code == 409 and again.headers["content-type"] == PROBLEM
    states = [
        r["state"]
        for r in httpx.get(f"{server.url}/api/v1/runs/default", params={"state": "Succeeded"}).json()["runs"]
    ]
    assert states == ["Succeeded"] * 3
