"""The launcher conformance suite on the process and function launchers (real processes and threads)."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from controllers.launchers.base import LaunchRequest, Phase
from controllers.launchers.function import FunctionLauncher
from controllers.launchers.process import ProcessLauncher
from controllers.launchers.testing import LauncherCase, LauncherConformance, wait_done
from tuner import reporting
from tuner.errors import LaunchError

PROGRAMS = {
    "succeed": "print('marker=1')",
    "fail": "import sys; print('about to fail'); sys.exit(3)",
    "sleep": "import time; time.sleep(60)",
    "print_many": "[print(f'line={i}') for i in range(200)]",
}


def process_request(kind: str, trial: str, folder: Path) -> LaunchRequest:
    return LaunchRequest(
        trial=trial,
        argv=[sys.executable, "-c", PROGRAMS[kind]],
        env=dict(os.environ),
        workdir=folder / trial,
        log_path=folder / trial / "trial.log",
    )


def objective(params: dict[str, Any]) -> Any:
    kind = params["kind"]
    if kind == "succeed":
        print("marker=1", flush=True)
        return 1.0
    if kind == "fail":
        raise RuntimeError("about to fail")
    if kind == "sleep":
        for _ in range(600):
            time.sleep(0.1)
            reporting.report(tick=1.0)
        return 0.0
    for i in range(200):
        print(f"line={i}")
    return 2.0


def function_request(kind: str, trial: str, folder: Path) -> LaunchRequest:
    return LaunchRequest(
        trial=trial, workdir=folder / trial, log_path=folder / trial / "trial.log", payload={"kind": kind}
    )


class TestProcessLauncher(LauncherConformance):
    @pytest.fixture
    def case(self) -> LauncherCase:
        return LauncherCase(ProcessLauncher(), process_request)


class TestFunctionLauncherProcesses(LauncherConformance):
    @pytest.fixture
    def case(self) -> Iterator[LauncherCase]:
        launcher = FunctionLauncher(objective, workers=2)
        yield LauncherCase(launcher, function_request, exit_codes=False, can_attach=False)
        launcher.close()


class TestFunctionLauncherThreads(LauncherConformance):
    @pytest.fixture
    def case(self) -> Iterator[LauncherCase]:
        launcher = FunctionLauncher(objective, workers=2, threads=True)
        yield LauncherCase(launcher, function_request, exit_codes=False, can_attach=False)
        launcher.close()


def test_arguments_reach_the_program_exactly(tmp_path: Path) -> None:
    """Exec form: spaces, quotes, globs and $VARS are passed through untouched."""
    args = ["a b", "'q'", '"dq"', "*", "$HOME", "", "--x=${notexpanded}"]
    request = LaunchRequest(
        trial="argv",
        argv=[sys.executable, "-c", "import sys, json; print(json.dumps(sys.argv[1:]))", *args],
        env=dict(os.environ),
        workdir=tmp_path / "w",
        log_path=tmp_path / "w" / "log",
    )
    launcher = ProcessLauncher()
    assert wait_done(launcher, launcher.launch(request)).phase == Phase.SUCCEEDED
    import json

    assert json.loads((tmp_path / "w" / "log").read_text()) == args


def test_missing_program_is_refused_before_running(tmp_path: Path) -> None:
    request = LaunchRequest(
        trial="nope", argv=["no-such-program-xyz"], env=dict(os.environ), workdir=tmp_path
    )
    with pytest.raises(LaunchError, match="no-such-program-xyz"):
        ProcessLauncher().launch(request)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Wait for a state (the timeout only turns a hang into a failure)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.01)


def test_process_outlives_its_launcher_and_is_reattached(tmp_path: Path) -> None:
    """What `kill -9` of the controller leaves: a running trial a new launcher can find and follow."""
    gate = tmp_path / "gate"
    program = f"import os, time\nwhile not os.path.exists({str(gate)!r}): time.sleep(0.01)\nprint('done=1')"
    request = LaunchRequest(
        trial="orphan",
        argv=[sys.executable, "-c", program],
        env=dict(os.environ),
        workdir=tmp_path / "o",
        log_path=tmp_path / "o" / "log",
    )
    first = ProcessLauncher()
    handle = first.launch(request)
    info = handle.info
    fresh = ProcessLauncher()
    adopted = fresh.attach(info)
    assert adopted is not None
    assert fresh.poll(adopted).phase == Phase.RUNNING  # it waits for the gate: running, whatever the load
    gate.touch()
    handle.popen.wait()  # type: ignore[attr-defined]  # the dead controller's child is reaped by init; here by us
    assert wait_done(fresh, adopted).phase == Phase.SUCCEEDED


def test_reattach_recognises_a_lost_process(tmp_path: Path) -> None:
    request = LaunchRequest(
        trial="lost",
        argv=[sys.executable, "-c", "import time; time.sleep(30)"],
        env=dict(os.environ),
        workdir=tmp_path / "l",
        log_path=tmp_path / "l" / "log",
    )
    launcher = ProcessLauncher()
    handle = launcher.launch(request)
    os.killpg(handle.pid, signal.SIGKILL)  # the whole group, wrapper included: no exit status recorded
    handle.popen.wait()  # type: ignore[attr-defined]
    adopted = ProcessLauncher().attach(handle.info)
    assert adopted is not None
    status = ProcessLauncher().poll(adopted)
    assert status.phase == Phase.LOST


def test_cancel_stops_children_of_the_trial(tmp_path: Path) -> None:
    script = "import subprocess, sys, time; p = subprocess.Popen(['sleep', '60']); print(p.pid, flush=True); time.sleep(60)"
    request = LaunchRequest(
        trial="tree",
        argv=[sys.executable, "-c", script],
        env=dict(os.environ),
        workdir=tmp_path / "t",
        log_path=tmp_path / "t" / "log",
    )
    launcher = ProcessLauncher()
    handle = launcher.launch(request)
    log = tmp_path / "t" / "log"
    wait_until(lambda: bool(log.read_text().strip()), "the child's pid in the log")
    child = int(log.read_text().split()[0])
    launcher.cancel(handle, grace_seconds=2)

    def gone() -> bool:
        try:
            return "Z" in Path(f"/proc/{child}/stat").read_text().split(")")[1][:3]  # ended, not reaped
        except OSError:
            return True

    wait_until(gone, "the trial's child stopped")


def test_function_reports_arrive_in_order(tmp_path: Path) -> None:
    def reporting_objective(params: dict[str, Any]) -> float:
        for step in range(1, 6):
            reporting.report(step=step, loss=1.0 / step)
        return 0.2

    for threads in (False, True):
        launcher = FunctionLauncher(reporting_objective, threads=threads)
        handle = launcher.launch(function_request("x", f"rep-{threads}", tmp_path))
        assert wait_done(launcher, handle).phase == Phase.SUCCEEDED
        pushed = launcher.take_pushed(handle)
        assert [(step, metrics["loss"]) for step, metrics, _ in pushed] == [(s, 1.0 / s) for s in range(1, 6)]
        assert launcher.result(handle) == 0.2
        launcher.close()


def test_thread_trial_stops_at_its_next_report(tmp_path: Path) -> None:
    launcher = FunctionLauncher(objective, threads=True)
    handle = launcher.launch(function_request("sleep", "coop", tmp_path))
    wait_until(lambda: bool(launcher.take_pushed(handle)), "a first report")  # it runs its loop
    launcher.cancel(handle, grace_seconds=600)  # returns at the next report, long before the grace
    assert launcher.poll(handle).phase == Phase.CANCELLED
    assert handle.thread is not None and not handle.thread.is_alive()  # type: ignore[attr-defined]
