"""The conformance suite every launcher passes.

A test module subclasses `LauncherConformance` and provides the `case` fixture: a `LauncherCase` that knows
how to build, for its launcher, requests for a handful of standard workloads. The suite then checks the
contract of `controllers.launchers.base` on real executions (nothing is mocked for local launchers).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from controllers.launchers.base import Handle, Launcher, LaunchRequest, Phase, Status

WORKLOADS = ("succeed", "fail", "sleep", "print_many")
"""succeed: prints `marker=1` and ends well; fail: ends with an error (exit status 3 for processes);
sleep: runs for a minute unless stopped; print_many: prints `line=<i>` for i in 0..199 and ends well."""


@dataclass
class LauncherCase:
    launcher: Launcher
    make_request: Callable[[str, str, Path], LaunchRequest]  # (workload, trial name, folder) -> request
    exit_codes: bool = True  # whether FAILED carries the program's own exit status
    can_attach: bool = True  # whether a finished attempt can be found again from its RunInfo


def wait_done(launcher: Launcher, handle: Handle, timeout: float = 30.0) -> Status:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = launcher.poll(handle)
        if status.phase.is_done:
            return status
        time.sleep(0.005)
    raise AssertionError(f"still running after {timeout} s")


class LauncherConformance:
    """Subclass in a test module and define a `case` fixture returning a LauncherCase."""

    def test_success_and_output(self, case: LauncherCase, tmp_path: Path) -> None:
        handle = case.launcher.launch(case.make_request("succeed", "t-ok", tmp_path))
        status = wait_done(case.launcher, handle)
        assert status.phase == Phase.SUCCEEDED
        log = case.launcher.log_path(handle)
        assert log is not None and "marker=1" in log.read_text()

    def test_failure(self, case: LauncherCase, tmp_path: Path) -> None:
        status = wait_done(case.launcher, case.launcher.launch(case.make_request("fail", "t-fail", tmp_path)))
        assert status.phase == Phase.FAILED
        assert status.message
        if case.exit_codes:
            assert status.exit_code == 3

    def test_cancel_is_prompt_and_final(self, case: LauncherCase, tmp_path: Path) -> None:
        handle = case.launcher.launch(case.make_request("sleep", "t-sleep", tmp_path))
        assert case.launcher.poll(handle).phase == Phase.RUNNING
        # prompt: the workload ends at the polite request, so cancel returns long before this grace (a
        # launcher that waited it out would hang the test into its timeout; no clock is read here)
        case.launcher.cancel(handle, grace_seconds=600.0)
        assert case.launcher.poll(handle).phase == Phase.CANCELLED
        case.launcher.cancel(handle)  # cancelling twice does nothing
        assert case.launcher.poll(handle).phase == Phase.CANCELLED

    def test_deadline(self, case: LauncherCase, tmp_path: Path) -> None:
        request = case.make_request("sleep", "t-deadline", tmp_path)
        request = LaunchRequest(**{**request.__dict__, "deadline_seconds": 0.3})
        status = wait_done(case.launcher, case.launcher.launch(request), timeout=20)
        assert status.phase == Phase.TIMED_OUT
        assert "deadline" in status.message

    def test_parallel_attempts_are_independent(self, case: LauncherCase, tmp_path: Path) -> None:
        handles = [
            case.launcher.launch(case.make_request(kind, f"t-par-{i}", tmp_path))
            for i, kind in enumerate(["succeed", "fail", "print_many", "succeed"])
        ]
        phases = [wait_done(case.launcher, h).phase for h in handles]
        assert phases == [Phase.SUCCEEDED, Phase.FAILED, Phase.SUCCEEDED, Phase.SUCCEEDED]
        many = case.launcher.log_path(handles[2])
        assert many is not None
        lines = [line for line in many.read_text().splitlines() if line.startswith("line=")]
        assert lines == [f"line={i}" for i in range(200)]

    def test_attach_finds_the_same_attempt_or_declines(self, case: LauncherCase, tmp_path: Path) -> None:
        handle = case.launcher.launch(case.make_request("succeed", "t-attach", tmp_path))
        wait_done(case.launcher, handle)
        again = case.launcher.attach(handle.info)
        if not case.can_attach:
            assert again is None  # declining is allowed; the controller then reruns the attempt
            return
        assert again is not None
        assert wait_done(case.launcher, again).phase == Phase.SUCCEEDED
