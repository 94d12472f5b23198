"""Pipeline runs recorded in the metadata store (real SQLite and PostgreSQL): pipelines and versions, runs,
tasks with their states and attempts, artifacts with digests, lineage events, a cache shared between
recorders (as between two `tuner pipelines run` processes), and the stored run drawn back as text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.compiler.loader import load_pipeline
from pipelines.runner.store_recorder import StoreRecorder
from pipelines.runner.stored_runs import run_detail, run_lines, run_rows
from pipelines.runner.testing import Harness
from tuner.store import Store, open_store
from tuner.store.records import Direction, RunState, TaskState

GOLDEN = Path(__file__).resolve().parents[2] / "tests" / "golden" / "pipelines"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    opened = open_store(url)
    yield opened
    opened.close()


def test_a_run_with_artifacts_is_recorded_with_its_lineage(store: Store) -> None:
    harness = Harness(StoreRecorder(store))
    result = harness.run(load_pipeline(GOLDEN / "valid" / "v2_artifacts.py"), {"rows": 5})
    assert result.success()
    pipeline = store.get_pipeline("v2-artifacts")
    (version,) = store.list_pipeline_versions(pipeline.id)
    assert (
        version.spec_digest == result.spec.digest()
        and version.spec["schemaVersion"] == "tuner.dev/pipelines/v1"
    )
    (run,) = store.list_runs()
    assert (
        run.state == RunState.SUCCEEDED
        and run.arguments == {"rows": 5}
        and run.pipeline_version_id == version.id
    )
    tasks = {t.name: t for t in store.list_tasks(run.id)}
    assert {n: t.state for n, t in tasks.items()} == {
        "report": TaskState.SUCCEEDED,
        "prepare": TaskState.SUCCEEDED,
        "train": TaskState.SUCCEEDED,
    }
    assert tasks["train"].outputs["Output"] == 2.0 and tasks["train"].attempts == 1
    assert tasks["train"].logs_uri and Path(tasks["train"].logs_uri.removeprefix("file://")).exists()
    data = result.task("prepare").output_artifacts["data"]
    artifact = store.get_artifact_by_uri(data.uri)
    assert (artifact.digest, artifact.size, artifact.type, artifact.metadata) == (
        data.digest,
        data.size,
        "Dataset",
        {"rows": 5},
    )
    produced = {(e.direction, e.port) for e in store.list_events(task_id=tasks["prepare"].id)}
    consumed = {(e.direction, e.port, e.artifact_id) for e in store.list_events(task_id=tasks["train"].id)}
    assert produced == {(Direction.OUTPUT, "data")}
    assert (Direction.INPUT, "data", artifact.id) in consumed
    assert {(d, p) for d, p, _ in consumed} == {
        (Direction.INPUT, "data"),
        (Direction.OUTPUT, "model"),
        (Direction.OUTPUT, "metrics"),
    }


def test_the_cache_is_shared_between_recorders_and_failures_are_recorded(store: Store) -> None:
    spec = load_pipeline(GOLDEN / "valid" / "v1_calc.py")
    first = Harness(StoreRecorder(store)).run(spec, {"a": 1})
    second = Harness(StoreRecorder(store)).run(spec, {"a": 1})  # as another process would
    assert [t.state.value for t in second.tasks.values()] == ["Cached"] * 3
    assert second.task("add-op-3").outputs == first.task("add-op-3").outputs == {"Output": 13.0}
    runs = store.list_runs()
    assert (
        len(runs) == 2
        and len(store.list_pipeline_versions(store.get_pipeline("calculation-pipeline").id)) == 1
    )
    first_tasks = {t.name: t.id for t in store.list_tasks(runs[0].id)}
    cached = {t.name: t for t in store.list_tasks(runs[1].id)}
    assert (
        cached["add-op"].state == TaskState.CACHED
        and cached["add-op"].cached_from_task_id == first_tasks["add-op"]
    )

    flip = load_pipeline(GOLDEN / "valid" / "v1_flip_coin.py")
    failed = Harness(StoreRecorder(store)).run(flip, {"forced": "tails"})
    assert not failed.success()
    run = store.list_runs()[-1]
    assert run.state == RunState.FAILED and "fail-op" in run.message
    states = {t.name: t.state for t in store.list_tasks(run.id)}
    assert states["fail-op"] == TaskState.FAILED and states["get-number-op"] == TaskState.SKIPPED
    assert states["print-op"] == TaskState.SUCCEEDED

    rows = run_rows(store)
    assert [r["state"] for r in rows] == ["Succeeded", "Succeeded", "Failed"]
    assert rows[1]["tasks"] == {"Cached": 3}
    lines = "\n".join(run_lines(store, run.id))
    assert "condition-5: if flip-coin-op.Output == 'tails'" in lines
    assert "✗ fail-op  Failed" in lines and "- get-number-op  Skipped" in lines
    detail = run_detail(store, run.id)
    assert detail["pipeline"] == "flip-coin-with-exit" and detail["arguments"]["forced"] == "tails"


def test_retries_count_attempts_in_the_store(make_pipeline, store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "tries"
    spec = make_pipeline(
        f"""
from pipelines.kfp import dsl

@dsl.component
def flaky() -> int:
    with open({str(marker)!r}, "a") as handle:
        handle.write("x")
    if len(open({str(marker)!r}).read()) < 2:
        raise RuntimeError("first attempt fails")
    return 2

@dsl.pipeline(name="flaky")
def flaky_pipeline():
    flaky().set_retry(2)
"""
    )
    result = Harness(StoreRecorder(store)).run(spec)
    assert result.success()
    (task,) = store.list_tasks(store.list_runs()[0].id)
    assert task.attempts == 2 and task.state == TaskState.SUCCEEDED and task.outputs == {"Output": 2}


def test_a_stored_recursive_run_shows_every_level_with_its_log(store: Store) -> None:
    spec = load_pipeline(Path(__file__).parent / "samples" / "v1_graph_component.py", "countdown")
    result = Harness(StoreRecorder(store)).run(spec, {"start": 3}, enable_caching=False)
    assert result.success()
    (run,) = store.list_runs()
    lines = run_lines(store, run.id)
    assert "  graph-count-down-1: graph component count_down (calls itself)" in lines
    shown = [line.split()[1] for line in lines if line.startswith("    ✓ ")]
    assert shown == ["decrement", "decrement@1", "decrement@2"]
    logs = [line.split(": ", 1)[1] for line in lines if line.startswith("    decrement")]
    assert len(logs) == 3 and all(Path(log).is_file() for log in logs)  # real paths, not escaped URIs
