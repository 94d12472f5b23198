"""`tuner pipelines compile|run` as a user runs them: a real `python -m tuner.cli` process, exit codes 0 / 1 / 2,
task output prefixed by task names on stdout, progress and the summary on stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "pipelines"
SEED = ROOT / "examples" / "pipelines" / "seed"


def tuner(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "tuner.cli", "pipelines", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


def test_run_succeeds_with_arguments_and_prints_a_summary() -> None:
    done = tuner("run", str(SEED / "add_numbers.py"), "--arg", "a=7", "--arg", "b=8", "--parallelism", "2")
    assert done.returncode == 0, done.stderr
    assert "[add-op-3] 11.0 + 15.0 = 26.0" in done.stdout
    assert "'Calculation pipeline': Succeeded" in done.stderr
    assert "✓ add-op-3  Succeeded" in done.stderr and "Output=26.0" in done.stderr


def test_run_of_a_failing_pipeline_exits_1_and_names_the_task() -> None:
    done = tuner("run", str(GOLDEN / "valid" / "v1_flip_coin.py"), "--arg", "forced=tails", "--no-cache")
    assert done.returncode == 1
    assert "[print-op] Exit handler has worked!" in done.stdout
    assert "✗ fail-op failed: exited with code 1" in done.stderr
    assert "Failed" in done.stderr and "log: " in done.stderr


def test_invalid_input_exits_2_with_one_clear_line() -> None:
    unknown = tuner("run", str(SEED / "add_numbers.py"), "--arg", "c=1")
    assert unknown.returncode == 2 and "the pipeline has no parameter 'c'; parameters: a, b" in unknown.stderr
    several = tuner("run", str(SEED / "control.py"))
    assert several.returncode == 2 and "choose one with --pipeline" in several.stderr
    missing = tuner("run", str(GOLDEN / "invalid" / "cycle.py"))
    assert missing.returncode == 2 and "cycle" in missing.stderr
    malformed = tuner("run", str(SEED / "add_numbers.py"), "--arg", "a")
    assert malformed.returncode == 2 and "write it as NAME=VALUE" in malformed.stderr
    nofile = tuner("compile", "nowhere.py")
    assert nofile.returncode == 2 and "no such file" in nofile.stderr


def test_compile_to_stdout_file_and_argo_then_run_the_package(tmp_path: Path) -> None:
    printed = tuner("compile", str(SEED / "control.py"), "--pipeline", "Conditional execution pipeline")
    assert printed.returncode == 0
    assert yaml.safe_load(printed.stdout)["pipeline"]["functionName"] == "flipcoin_pipeline"
    package = tmp_path / "calc.zip"
    written = tuner("compile", str(SEED / "add_numbers.py"), "--output-file", str(package))
    assert written.returncode == 0 and package.exists()
    # -o means an output format everywhere else in the CLI; compile writes a file only with --output-file
    old_spelling = tuner("compile", str(SEED / "add_numbers.py"), "-o", str(tmp_path / "other.zip"))
    assert old_spelling.returncode == 2 and not (tmp_path / "other.zip").exists()
    argo = tuner("compile", str(SEED / "parallel.py"), "--target", "argo")
    assert yaml.safe_load(argo.stdout)["kind"] == "Workflow"
    ran = tuner("run", str(package), "--arg", "a=1", "--arg", "b=2")
    assert ran.returncode == 0 and "[add-op-3] 5.0 + 3.0 = 8.0" in ran.stdout
    bad_target = tuner("compile", str(SEED / "add_numbers.py"), "--target", "tekton")
    assert bad_target.returncode == 2 and "use ir or argo" in bad_target.stderr


def test_runs_are_kept_in_the_store_and_shown_back(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'runs.db'}"
    first = tuner("run", str(SEED / "add_numbers.py"), "--arg", "a=1", "--store", store)
    assert first.returncode == 0 and "recorded as run 1" in first.stderr
    again = tuner("run", str(SEED / "add_numbers.py"), "--arg", "a=1", "--store", store)
    assert again.returncode == 0 and "3 cached" in again.stderr  # the cache lives in the store
    assert "≡ add-op cached: cached from run 1, task add-op" in again.stderr  # a run id `runs show` takes
    listed = tuner("runs", "list", "--store", store)
    assert listed.returncode == 0
    lines = listed.stdout.splitlines()
    assert len(lines) == 2 and "3 succeeded" in lines[0] and "3 cached" in lines[1]
    assert "[calculation-pipeline, pipeline version 1]" in lines[0]  # not "(v1)", which read like the SDK
    shown = tuner("runs", "show", "2", "--store", store)
    assert shown.returncode == 0 and "≡ add-op-3  Cached  Output=13.0" in shown.stdout
    as_yaml = tuner("runs", "show", "1", "--store", store, "-o", "yaml")
    assert yaml.safe_load(as_yaml.stdout)["tasks"][2]["outputs"] == {"Output": 13.0}
    # run 9 does not exist; a number this short is a run number only, whatever the two runs' ids start with
    missing = tuner("runs", "show", "9", "--store", store)
    assert missing.returncode == 2 and "no pipeline run 9" in missing.stderr


def test_max_recursion_depth_option_stops_a_deep_recursion() -> None:
    sample = ROOT / "tests" / "pipelines" / "samples" / "v1_graph_component.py"
    deep = tuner("run", str(sample), "-p", "countdown", "--arg", "start=4", "--max-recursion-depth", "2")
    assert deep.returncode == 1, deep.stderr
    assert "called itself 3 times nested, past the limit of 2" in deep.stderr
    assert "graph-count-down-1: graph component count_down (calls itself)" in deep.stderr
    enough = tuner("run", str(sample), "-p", "countdown", "--arg", "start=4", "--no-cache")
    assert enough.returncode == 0, enough.stderr
    assert "✓ decrement@3  Succeeded" in enough.stderr and "Output=0" in enough.stderr
    negative = tuner("run", str(sample), "-p", "countdown", "--max-recursion-depth", "-1")
    assert negative.returncode == 2 and "--max-recursion-depth" in negative.stderr
