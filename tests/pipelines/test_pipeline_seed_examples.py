"""Every pipeline of the seed note, ported with only its imports changed (examples/pipelines/seed/), runs
locally with the behaviour the KFP SDK documents: outputs wired, conditions honoured, the exit handler run,
the run failing when a task fails.

The parallel example downloads with `gsutil` from Google Cloud Storage, which this machine cannot reach:
its test puts a stand-in `gsutil` (a shell script printing a line per object) first on PATH.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from pipelines.compiler.compiler import as_spec
from pipelines.runner.records import RunState, TaskState
from pipelines.runner.testing import Harness

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "pipelines" / "seed"


def seed_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"seed_{name}", SEED / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ports_change_only_import_lines() -> None:
    note = ROOT.parent.parent / "shared" / "seed" / "kubeflow-notes.txt"
    if not note.exists():
        note = Path("/work/shared/seed/kubeflow-notes.txt")
    text = note.read_text()
    for name in ("hello_world", "add_numbers", "parallel", "control"):
        for line in (SEED / f"{name}.py").read_text().splitlines():
            if "pipelines" in line:
                assert line.startswith(("from pipelines import kfp", "from pipelines.kfp")), line
            elif line.strip():
                assert line.rstrip() in text, f"{name}.py: {line!r} is not in the seed note"


def test_hello_world(harness: Harness) -> None:
    result = harness.run(as_spec(seed_module("hello_world").hello_world_pipeline))
    assert result.success()
    assert harness.observer.lines == [("hello-world-component", "Hello World!\n")]
    assert result.task("hello-world-component").outputs == {}  # no return annotation: no output (KFP v1)


def test_add_numbers_wires_outputs_and_coerces_string_arguments(harness: Harness) -> None:
    result = harness.run(as_spec(seed_module("add_numbers").calc_pipeline), {"a": "7", "b": "8"})
    assert result.success()
    assert {n: t.outputs["Output"] for n, t in result.tasks.items()} == {
        "add-op": 11.0,
        "add-op-2": 15.0,
        "add-op-3": 26.0,
    }
    assert ("add-op-3", "11.0 + 15.0 = 26.0\n") in harness.observer.lines


def test_pipeline_example_and_its_settings_variant(harness: Harness) -> None:
    for name in ("pipeline_example", "settings"):
        result = harness.run(as_spec(seed_module(name).example_pipeline), {"number_1": 3, "number_2": 4})
        assert result.success()
        assert ("sum-and-print-numbers", "7\n") in harness.observer.lines
    assert result.task("print-and-return-number").display_name == "This is number 1"
    assert any("nvidia.com/gpu" in note for note in harness.observer.notes)


def test_parallel_downloads_run_side_by_side_and_join(
    harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "bin" / "gsutil"
    fake.parent.mkdir()
    barrier = tmp_path / "downloads"
    barrier.mkdir()
    # each download says it started, then waits (a minute at most) until the other one started too
    fake.write_text(
        '#!/bin/sh\n[ "$1" = cat ] || exit 2\n'
        f'touch "{barrier}/$$"\nn=0\n'
        f'while [ "$(ls "{barrier}" | wc -l)" -lt 2 ] && [ $n -lt 3000 ]; do sleep 0.02; n=$((n+1)); done\n'
        'echo "text of $2"\n'
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    result = harness.run(as_spec(seed_module("parallel").download_and_join), parallelism=2)
    assert result.success()
    first, second = result.task("gcs-download"), result.task("gcs-download-2")
    assert first.outputs == {"data": "text of gs://ml-pipeline-playground/shakespeare1.txt"}
    assert second.outputs == {"data": "text of gs://ml-pipeline-playground/shakespeare2.txt"}
    assert first.started_at < second.finished_at and second.started_at < first.finished_at  # type: ignore[operator]
    echo = [line for name, line in harness.observer.lines if name == "echo"]
    assert echo == [
        "Text 1: text of gs://ml-pipeline-playground/shakespeare1.txt\n",
        "Text 2: text of gs://ml-pipeline-playground/shakespeare2.txt\n",
    ]
    assert any("google/cloud-sdk:272.0.0 is not used" in note for note in harness.observer.notes)


def _branch_checks(result, flip: str, first_print: int) -> None:  # type: ignore[no-untyped-def]
    """The documented behaviour of the flip-coin pipelines for the side the coin fell on."""
    prints = [f"print-op-{n}" if n > 1 else "print-op" for n in range(first_print, first_print + 4)]
    head_tasks, tail_tasks = ("get-random-int-op", *prints[:2]), ("get-random-int-op-2", *prints[2:])
    ran, skipped = (head_tasks, tail_tasks) if flip == "heads" else (tail_tasks, head_tasks)
    assert all(result.task(t).state == TaskState.SKIPPED for t in skipped)
    number = result.task(ran[0]).outputs["Output"]
    assert isinstance(number, int)
    low, threshold = (0, 5) if flip == "heads" else (10, 15)
    assert low <= number <= low + 9
    bigger, smaller = result.task(ran[1]), result.task(ran[2])
    chosen, other = (bigger, smaller) if number > threshold else (smaller, bigger)
    assert chosen.state == TaskState.SUCCEEDED and other.state == TaskState.SKIPPED
    sign = ">" if number > threshold else "<="
    assert (
        chosen.inputs["message"] == f"{flip} and {number} {sign} {threshold}!"
    )  # an int stays "13", not "13.0"


@pytest.mark.slow
def test_flip_coin_conditions_on_both_sides(harness: Harness) -> None:
    spec = as_spec(seed_module("control").flipcoin_pipeline)
    seen: set[str] = set()
    for _ in range(16):
        result = harness.run(spec, enable_caching=False)
        assert result.success()
        flip = result.task("flip-coin-op").outputs["Output"]
        _branch_checks(result, flip, first_print=1)
        seen.add(flip)
        if len(seen) == 2:
            break
    assert seen == {"heads", "tails"}


@pytest.mark.slow
def test_flip_coin_exit_handler_runs_and_tails_fails_the_run(harness: Harness) -> None:
    spec = as_spec(seed_module("control").flipcoin_exit_pipeline)
    seen: set[str] = set()
    for _ in range(16):
        result = harness.run(spec, enable_caching=False)
        flip = result.task("flip-coin-op").outputs["Output"]
        _branch_checks(result, flip, first_print=2)
        exit_task = result.task("print-op")
        assert exit_task.state == TaskState.SUCCEEDED
        assert exit_task.started_at >= max(
            t.finished_at or 0 for n, t in result.tasks.items() if n != "print-op"
        )  # type: ignore[operator]
        if flip == "tails":
            assert result.state == RunState.FAILED and result.task("fail-op").state == TaskState.FAILED
        else:
            assert result.state == RunState.SUCCEEDED and result.task("fail-op").state == TaskState.SKIPPED
        seen.add(flip)
        if len(seen) == 2:
            break
    assert seen == {"heads", "tails"}


def test_main_blocks_run_with_the_host_overridden(tmp_path: Path) -> None:
    """`python hello_world.py` as the note runs it: compile to a .zip, then Client(host).create_run...;
    TUNER_PIPELINES_HOST=local runs locally whatever host the script names."""
    env = {**os.environ, "TUNER_PIPELINES_HOST": "local", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(SEED / "hello_world.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "[hello-world-component] Hello World!" in done.stdout
    assert "Succeeded" in done.stderr
    assert (tmp_path / "hello-world-pipeline.zip").stat().st_size > 0


def test_client_with_an_unreachable_host_says_how_to_run_locally(tmp_path: Path) -> None:
    """No server listens at the seed's KUBEFLOW_HOST: the error says how to start one or run locally."""
    env = {k: v for k, v in os.environ.items() if k != "TUNER_PIPELINES_HOST"}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, str(SEED / "add_numbers.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "TUNER_PIPELINES_HOST=local" in done.stderr and "Client()" in done.stderr


def test_run_pipeline_func_locally_streams_prefixed_output_and_records_the_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pipelines.kfp import run_pipeline_func_locally
    from tuner.store import open_store

    result = run_pipeline_func_locally(seed_module("add_numbers").calc_pipeline, {"a": "7", "b": "8"})
    assert result.success() and result.task("add-op-3").outputs == {"Output": 26.0}
    captured = capsys.readouterr()
    assert "[add-op-3] 11.0 + 15.0 = 26.0" in captured.out
    assert "'Calculation pipeline': Succeeded" in captured.err
    store = open_store()  # the default store in TUNER_HOME, where the run was recorded
    try:
        (run,) = store.list_runs()
        assert run.state.value == "Succeeded" and len(store.list_tasks(run.id)) == 3
    finally:
        store.close()
