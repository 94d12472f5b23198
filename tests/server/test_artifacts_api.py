"""Artifacts (metadata, download with HTTP range requests) and lineage over the REST API of a real
`tuner server` subprocess, on the artifacts a pipeline run wrote."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.server.conftest import ServerProcess
from tests.server.pipeline_samples import compiled
from tests.server.test_pipelines_api import start_run, upload, wait_run

PROBLEM = "application/problem+json"
SIZE = 5000
CONTENT = bytes(i % 251 for i in range(SIZE))


def _finished_run(server: ServerProcess, tmp_path: Path) -> dict:
    assert upload(server, compiled(tmp_path)).status_code == 201
    reply = start_run(server, {"pipeline": "bytes-total", "arguments": {"size": SIZE}})
    assert reply.status_code == 201, reply.text
    done = wait_run(server, reply.json()["id"])
    assert done["state"] == "Succeeded", done
    return done


def test_artifact_metadata_download_and_ranges(server: ServerProcess, tmp_path: Path) -> None:
    run = _finished_run(server, tmp_path)
    tasks = {t["name"]: t for t in run["tasks"]}
    (written,) = [a for a in tasks["make-data"]["artifacts"] if a["direction"] == "OUTPUT"]
    url = f"{server.url}/api/v1/artifacts/default/{written['id']}"

    meta = httpx.get(url).json()
    assert meta["size"] == SIZE and meta["digest"].startswith("sha256:")
    assert {(e["kind"], e["name"], e["direction"]) for e in meta["events"]} == {
        ("task", "make-data", "OUTPUT"),
        ("task", "total", "INPUT"),
    }

    whole = httpx.get(f"{url}/content")
    assert whole.status_code == 200 and whole.content == CONTENT
    assert whole.headers["accept-ranges"] == "bytes"

    part = httpx.get(f"{url}/content", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == CONTENT[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{SIZE}"
    tail = httpx.get(f"{url}/content", headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == CONTENT[-10:]
    rest = httpx.get(f"{url}/content", headers={"Range": f"bytes={SIZE - 5}-"})
    assert rest.status_code == 206 and rest.content == CONTENT[-5:]
    clipped = httpx.get(f"{url}/content", headers={"Range": f"bytes=10-{SIZE * 2}"})
    assert clipped.status_code == 206 and clipped.content == CONTENT[10:]

    outside = httpx.get(f"{url}/content", headers={"Range": f"bytes={SIZE}-"})
    assert outside.status_code == 416 and outside.headers["content-type"] == PROBLEM
    assert outside.headers["content-range"] == f"bytes */{SIZE}"

    assert httpx.get(f"{server.url}/api/v1/artifacts/other/{written['id']}").status_code == 404
    assert httpx.get(f"{server.url}/api/v1/artifacts/default/99999/content").status_code == 404
    huge = httpx.get(f"{server.url}/api/v1/artifacts/default/99999999999999999999999")
    assert huge.status_code == 422 and huge.headers["content-type"] == PROBLEM


def test_lineage_up_and_downstream(server: ServerProcess, tmp_path: Path) -> None:
    run = _finished_run(server, tmp_path)
    tasks = {t["name"]: t for t in run["tasks"]}
    (written,) = [a for a in tasks["make-data"]["artifacts"] if a["direction"] == "OUTPUT"]
    base = f"{server.url}/api/v1/lineage/default"

    around = httpx.get(f"{base}/artifact/{written['id']}").json()
    depths = {(n["kind"], n["id"]): n["depth"] for n in around["nodes"]}
    assert depths[("artifact", written["id"])] == 0
    assert depths[("task", tasks["make-data"]["id"])] == -1  # it was made by make-data
    assert depths[("task", tasks["total"]["id"])] == 1  # and read by total
    assert ("pipeline_run", run["id"]) in depths

    down = httpx.get(f"{base}/run/{run['id']}", params={"direction": "downstream"}).json()
    kinds = {(n["kind"], n["id"]) for n in down["nodes"]}
    assert {("task", tasks["make-data"]["id"]), ("task", tasks["total"]["id"])} <= kinds
    assert all(n["depth"] >= 0 for n in down["nodes"])
    up = httpx.get(f"{base}/task/{tasks['total']['id']}", params={"direction": "upstream"}).json()
    assert ("artifact", written["id"]) in {(n["kind"], n["id"]) for n in up["nodes"]}

    assert httpx.get(f"{server.url}/api/v1/lineage/other/run/{run['id']}").status_code == 404
    assert httpx.get(f"{base}/nothing/1").status_code == 404
    assert httpx.get(f"{base}/run/99999999999999999999999").status_code == 404
    bad = httpx.get(f"{base}/run/{run['id']}", params={"direction": "sideways"})
    assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM


def test_lineage_shows_only_the_callers_namespace(server: ServerProcess, tmp_path: Path) -> None:
    """An artifact of `default` read by a task of another namespace: the walk from `default` stops at the
    namespace's edge and says how many nodes it left out, never their names."""
    from tuner.store import open_store
    from tuner.store.records import Direction

    run = _finished_run(server, tmp_path)
    tasks = {t["name"]: t for t in run["tasks"]}
    (written,) = [a for a in tasks["make-data"]["artifacts"] if a["direction"] == "OUTPUT"]
    store = open_store(server.store_url)
    try:
        foreign_run = store.create_run("secret-run-of-team-b", namespace="team-b")
        foreign_task = store.create_task(foreign_run.id, "secret-reader")
        store.record_event(int(written["id"]), Direction.INPUT, task_id=foreign_task.id)
    finally:
        store.close()

    reply = httpx.get(
        f"{server.url}/api/v1/lineage/default/run/{run['id']}", params={"direction": "downstream"}
    )
    assert reply.status_code == 200, reply.text
    seen = reply.json()
    keys = {(n["kind"], n["id"]) for n in seen["nodes"]}
    assert ("artifact", written["id"]) in keys
    assert ("task", str(foreign_task.id)) not in keys and ("pipeline_run", str(foreign_run.id)) not in keys
    assert "secret" not in reply.text
    assert seen["hidden"] >= 1
    assert all(e["target"]["id"] != str(foreign_task.id) for e in seen["edges"])

    theirs = httpx.get(
        f"{server.url}/api/v1/lineage/team-b/task/{foreign_task.id}", params={"direction": "upstream"}
    )
    assert theirs.status_code == 200
    assert ("task", tasks["make-data"]["id"]) not in {(n["kind"], n["id"]) for n in theirs.json()["nodes"]}
