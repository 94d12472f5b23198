"""Trials as local processes: the primary container's command, run on the host.

Each attempt runs as `/bin/sh -c '"$@"; echo $? > EXIT' EXIT argv...`: the shell receives the arguments as
positional parameters and runs them exactly as given (exec form, no joining or re-splitting), then writes the
exit status to a file. The attempt runs in a session of its own, so it outlives a controller killed with
`kill -9`, a restarted controller can re-attach to it by pid (checked against the process start time, so a
reused pid is not mistaken for it) and learn how it ended from the exit file, and cancelling signals the
whole process group (the program and anything it started).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from controllers.launchers.base import Handle, Launcher, LaunchRequest, Phase, RunInfo, Status
from tuner.errors import LaunchError

_WRAPPER = '"$@"; echo $? > "$0"'


@dataclass
class ProcessHandle(Handle):
    pid: int
    start_ticks: int | None
    exit_file: Path
    log_file: Path
    started_at: float
    deadline_seconds: float | None
    host: str
    popen: subprocess.Popen[bytes] | None = None
    outcome: Status | None = field(default=None)

    @property
    def info(self) -> RunInfo:
        return RunInfo(
            launcher=ProcessLauncher.name,
            data={
                "pid": self.pid,
                "start_ticks": self.start_ticks,
                "exit_file": str(self.exit_file),
                "log_path": str(self.log_file),
                "started_at": self.started_at,
                "deadline_seconds": self.deadline_seconds,
                "host": self.host,
            },
        )


class ProcessLauncher(Launcher):
    """Runs each attempt as a local process group; see the module docstring."""

    name = "process"

    def __init__(self) -> None:
        self._host = socket.gethostname()

    def launch(self, request: LaunchRequest) -> ProcessHandle:
        if not request.argv:
            raise LaunchError(f"trial {request.trial}: nothing to run (the primary container has no command)")
        workdir = Path(request.workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        _check_program(request.argv[0], workdir, request.env, request.trial)
        exit_file = workdir / f".exit-{request.attempt}"
        exit_file.unlink(missing_ok=True)
        log_path = Path(request.log_path)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            popen = subprocess.Popen(
                ["/bin/sh", "-c", _WRAPPER, str(exit_file), *request.argv],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=workdir,
                env=dict(request.env),
                start_new_session=True,
            )
        return ProcessHandle(
            pid=popen.pid,
            start_ticks=_start_ticks(popen.pid),
            exit_file=exit_file,
            log_file=log_path,
            started_at=time.time(),
            deadline_seconds=request.deadline_seconds,
            host=self._host,
            popen=popen,
        )

    def poll(self, handle: Handle) -> Status:
        h = _own(handle)
        if h.outcome is not None:
            return h.outcome
        if self._alive(h):
            if h.deadline_seconds is not None and time.time() - h.started_at > h.deadline_seconds:
                self._terminate(h, grace_seconds=5.0)
                h.outcome = Status(
                    Phase.TIMED_OUT, message=f"killed at its deadline of {h.deadline_seconds:g} s"
                )
                return h.outcome
            return Status(Phase.RUNNING)
        h.outcome = _ended(h)
        return h.outcome

    def cancel(self, handle: Handle, grace_seconds: float = 10.0) -> None:
        h = _own(handle)
        if h.outcome is not None:
            return
        if self._alive(h):
            self._terminate(h, grace_seconds)
            h.outcome = Status(Phase.CANCELLED, message="stopped on request")
        else:
            h.outcome = _ended(h)

    def attach(self, info: RunInfo) -> ProcessHandle | None:
        data = info.data
        if info.launcher != self.name or data.get("host") != self._host:
            return None
        return ProcessHandle(
            pid=int(data["pid"]),
            start_ticks=data.get("start_ticks"),
            exit_file=Path(data["exit_file"]),
            log_file=Path(data["log_path"]),
            started_at=float(data["started_at"]),
            deadline_seconds=data.get("deadline_seconds"),
            host=str(data["host"]),
        )

    def log_path(self, handle: Handle) -> Path:
        return _own(handle).log_file

    def _alive(self, h: ProcessHandle) -> bool:
        if h.popen is not None:
            return h.popen.poll() is None
        ticks = _start_ticks(h.pid)
        return ticks is not None and (h.start_ticks is None or ticks == h.start_ticks)

    def _terminate(self, h: ProcessHandle, grace_seconds: float) -> None:
        deadline = time.monotonic() + grace_seconds
        next_term = 0.0
        while time.monotonic() < deadline:
            if time.monotonic() >= next_term:
                # repeated: a process caught between fork and setsid misses a signal sent to its group
                _signal_group(h.pid, signal.SIGTERM)
                next_term = time.monotonic() + 0.25
            if not self._alive(h) and not _group_exists(h.pid):
                return
            time.sleep(0.01)
        _signal_group(h.pid, signal.SIGKILL)
        if h.popen is not None:
            h.popen.wait()


def _own(handle: Handle) -> ProcessHandle:
    if not isinstance(handle, ProcessHandle):
        raise TypeError(f"not a process handle: {handle!r}")
    return handle


def _ended(h: ProcessHandle) -> Status:
    try:
        code = int(h.exit_file.read_text().strip())
    except (OSError, ValueError):
        return Status(Phase.LOST, message="the process ended without recording its exit status (killed?)")
    if code == 0:
        return Status(Phase.SUCCEEDED, exit_code=0)
    return Status(Phase.FAILED, exit_code=code, message=_describe_exit(code))


def _describe_exit(code: int) -> str:
    if code > 128 and code - 128 in signal.valid_signals():
        return f"exited with status {code} (killed by {signal.Signals(code - 128).name})"
    if code == 127:
        return "exited with status 127 (command not found)"
    return f"exited with status {code}"


def _check_program(program: str, workdir: Path, env: object, trial: str) -> None:
    path_var = env.get("PATH") if isinstance(env, dict) else None
    if os.sep in program:
        candidate = Path(program) if os.path.isabs(program) else workdir / program
        if not candidate.exists():
            raise LaunchError(f"trial {trial}: program {program!r} does not exist (looked in {workdir})")
        return
    if shutil.which(program, path=path_var or os.environ.get("PATH")) is None:
        raise LaunchError(
            f"trial {trial}: program {program!r} is not on PATH; install it or give its full path in the "
            "primary container's command"
        )


def _start_ticks(pid: int) -> int | None:
    """The process start time in clock ticks since boot (field 22 of /proc/PID/stat); None if gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    if fields[0] == "Z":
        return None
    return int(fields[19])


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True
