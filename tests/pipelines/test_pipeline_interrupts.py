"""Runs that are interrupted or would hang: SIGTERM, SIGHUP (like Ctrl-C) stop the tasks and mark the run
Cancelled; a default task timeout stops a hung task; a container step whose program is missing fails
naming it, and one whose program hangs (gsutil without network) is stopped by its timeout.

The signal tests drive the real `tuner pipelines run` in a subprocess and wait for the task to say it is
running before signalling, so nothing races the clock.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pipelines.compiler.loader import load_pipeline
from pipelines.runner.records import RunState, TaskState
from pipelines.runner.testing import Harness

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "pipelines"

SLEEPER = """
from pipelines.kfp import dsl

@dsl.component
def sleeper(pid_file: str):
    import os
    import time

    with open(pid_file, "w") as f:
        f.write(str(os.getpid()))
    print("ready", flush=True)
    time.sleep(600)

@dsl.component
def after_sleep():
    print("never")

@dsl.pipeline(name="sleepy")
def sleepy(pid_file: str):
    after_sleep().after(sleeper(pid_file=pid_file))
"""


def tuner(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tuner.cli", "pipelines", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_stops_the_tasks_and_marks_the_run_cancelled(tmp_path: Path, signum: int) -> None:
    pipeline = tmp_path / "sleepy.py"
    pipeline.write_text(SLEEPER)
    store = f"sqlite:///{tmp_path / 'runs.db'}"
    pid_file = tmp_path / "task.pid"
    runner = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tuner.cli",
            "pipelines",
            "run",
            str(pipeline),
            "--arg",
            f"pid_file={pid_file}",
            "--store",
            store,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert runner.stdout is not None
    for line in runner.stdout:  # wait for the task to be running
        if "[sleeper] ready" in line:
            break
    task_pid = int(pid_file.read_text())
    runner.send_signal(signum)
    _, err = runner.communicate(timeout=60)
    name = signal.Signals(signum).name
    assert runner.returncode == (130 if signum == signal.SIGINT else 128 + signum), err
    if signum != signal.SIGINT:
        assert f"interrupted by {name}" in err and "recorded as Cancelled" in err
    with pytest.raises(ProcessLookupError):
        os.kill(task_pid, 0)  # the task process was stopped, not orphaned
    listed = tuner("runs", "list", "--store", store, "-o", "json")
    rows = json.loads(listed.stdout)
    assert [(r["state"], name in r["message"]) for r in rows] == [("Cancelled", True)]
    assert rows[0]["tasks"] == {"Cancelled": 1}
    plain = tuner("runs", "list", "--store", store)
    assert "Cancelled" in plain.stdout and f"interrupted by {name}" in plain.stdout


def test_default_task_timeout_stops_a_hung_task(make_pipeline, harness: Harness, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = make_pipeline(SLEEPER)
    result = harness.run(spec, {"pid_file": str(tmp_path / "pid")}, task_timeout=0.5)
    assert result.run.state == RunState.FAILED
    sleeper = result.task("sleeper")
    assert sleeper.state == TaskState.FAILED
    assert sleeper.message == "timed out after 0.5s (the run's default task timeout, --task-timeout)"
    assert result.task("after-sleep").state == TaskState.SKIPPED


def test_task_timeout_option_and_variable_on_the_command_line(tmp_path: Path) -> None:
    pipeline = tmp_path / "sleepy.py"
    pipeline.write_text(SLEEPER)
    store = f"sqlite:///{tmp_path / 'runs.db'}"
    ran = tuner(
        "run", str(pipeline), "--arg", f"pid_file={tmp_path / 'p'}", "--store", store, "--task-timeout", "0.5"
    )
    assert ran.returncode == 1 and "timed out after 0.5s" in ran.stderr
    env = {**os.environ, "TUNER_PIPELINES_TASK_TIMEOUT": "soon"}
    bad = tuner("run", str(pipeline), "--arg", f"pid_file={tmp_path / 'p'}", "--store", store, env=env)
    assert bad.returncode == 2 and "TUNER_PIPELINES_TASK_TIMEOUT" in bad.stderr and "'soon'" in bad.stderr


def _bin_with(tmp_path: Path, gsutil: str | None) -> str:
    """A PATH holding only the shell tools the step uses, and `gsutil` as given (None: missing)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for tool in ("sh", "mkdir", "dirname", "sleep"):
        found = subprocess.run(
            ["sh", "-c", f"command -v {tool}"], capture_output=True, text=True
        ).stdout.strip()
        (folder / tool).symlink_to(found)
    if gsutil is not None:
        script = folder / "gsutil"
        script.write_text("#!/bin/sh\n" + textwrap.dedent(gsutil))
        script.chmod(0o755)
    return str(folder)


def test_the_gcs_example_names_a_missing_gsutil(harness: Harness, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PATH", _bin_with(tmp_path, None))
    result = harness.run(load_pipeline(EXAMPLES / "gcs_download.py"))
    download = result.task("gcs-download")
    assert download.state == TaskState.FAILED
    assert (
        "'gsutil' is not installed on this machine (image google/cloud-sdk:279.0.0 has it" in download.message
    )
    assert result.task("count-words").state == TaskState.SKIPPED
    report = [line for name, line in harness.observer.lines if name == "report"]
    assert (
        len(report) == 1
        and report[0].startswith("could not download gs://")
        and "'gsutil' is not installed" in report[0]
    )


def test_the_gcs_example_does_not_hang_when_gsutil_has_no_network(
    harness: Harness, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(
        "PATH", _bin_with(tmp_path, 'echo "connecting to storage.googleapis.com"\nexec sleep 600\n')
    )
    spec = load_pipeline(EXAMPLES / "gcs_download.py")
    assert spec.tasks["gcs-download"].timeout_seconds == 60  # the example's own timeout
    quick = spec.model_copy(deep=True)
    quick.tasks["gcs-download"].timeout_seconds = 0.5  # the same pipeline, a shorter wait for the test
    result = harness.run(quick)
    download = result.task("gcs-download")
    assert (download.state, download.message) == (TaskState.FAILED, "timed out after 0.5s")
    report = [line for name, line in harness.observer.lines if name == "report"]
    assert report and "gcs-download timed out after 0.5s" in report[0]


def test_a_missing_program_as_the_command_itself_is_named(
    make_pipeline, harness: Harness, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PATH", _bin_with(tmp_path, None))
    spec = make_pipeline(
        """
        from pipelines.kfp import dsl

        @dsl.pipeline(name="p")
        def p():
            dsl.ContainerOp(name="copy", image="google/cloud-sdk:272.0.0", command=["gsutil", "cp", "gs://a/b", "/tmp/b"])
        """
    )
    result = harness.run(spec)
    assert result.task("copy").message.startswith(
        "cannot start 'gsutil': it is not installed on this machine (image google/cloud-sdk:272.0.0 has it"
    )


def test_the_gcs_example_compiles_unchanged_for_argo() -> None:
    from hera.workflows.models import Workflow

    from pipelines.compiler.argo import to_workflow

    document = to_workflow(load_pipeline(EXAMPLES / "gcs_download.py"))
    assert (
        Workflow.model_validate(document).model_dump(by_alias=True, exclude_none=True, mode="json")
        == document
    )
    step = next(t for t in document["spec"]["templates"] if t["name"] == "gcs-download")
    assert step["container"]["image"] == "google/cloud-sdk:279.0.0"
    assert "gsutil cp" in step["container"]["command"][2]
    assert step["activeDeadlineSeconds"] == 60
