"""Task processes: starting them cheaply, reading their output line by line, noticing when they end.

Each lightweight task runs in a fresh Python process of its own. Starting an interpreter costs about as
much as a trivial task, so `WarmPool` keeps a couple of interpreters already started on the executor,
each waiting for the one task spec it will run; when a task is handed to one, a replacement starts in the
background. Processes are never reused. Container steps run their own command directly.

Every process runs in its own session (so a timeout or an interrupt stops its children too), with stdout
and stderr merged into one pipe that the runner reads without blocking. Exit is noticed through a pidfd
where Linux offers one, else by polling.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.runner import executor

_EXECUTOR_SOURCE: str | None = None


def executor_source() -> str:
    """The executor module's source, run with `python -c` so the task imports nothing of this package."""
    global _EXECUTOR_SOURCE
    if _EXECUTOR_SOURCE is None:
        _EXECUTOR_SOURCE = Path(executor.__file__).read_text()
    return _EXECUTOR_SOURCE


def executor_command(python: str) -> list[str]:
    """The command line of a task process that reads its spec on stdin."""
    return [python, "-c", executor_source()]


@dataclass
class TaskProcess:
    """A started process and the state of reading its output."""

    popen: subprocess.Popen[bytes]
    pidfd: int | None = None
    buffer: bytes = b""
    eof: bool = False
    killed_reason: str | None = None
    _lines: list[bytes] = field(default_factory=list)

    @property
    def stdout_fd(self) -> int:
        assert self.popen.stdout is not None
        return self.popen.stdout.fileno()

    def read_available(self) -> list[bytes]:
        """Complete lines read now (without blocking); at EOF the last partial line too."""
        lines: list[bytes] = []
        while True:
            try:
                chunk = os.read(self.stdout_fd, 65536)
            except BlockingIOError:
                break
            except OSError:
                chunk = b""
            if not chunk:
                self.eof = True
                break
            self.buffer += chunk
            *complete, self.buffer = self.buffer.split(b"\n")
            lines.extend(line + b"\n" for line in complete)
        if self.eof and self.buffer:
            lines.append(self.buffer + b"\n")
            self.buffer = b""
        return lines

    def kill(self, reason: str) -> None:
        """Stop the process and everything it started."""
        self.killed_reason = self.killed_reason or reason
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)

    def close(self) -> None:
        """Release the pipe and the pidfd (after the process has been waited for)."""
        if self.popen.stdout is not None:
            self.popen.stdout.close()
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None


def _open_pidfd(pid: int) -> int | None:
    opener = getattr(os, "pidfd_open", None)
    if opener is None:
        return None
    try:
        return int(opener(pid))
    except OSError:
        return None


def start_process(
    argv: Sequence[str], cwd: Path | None, env: Mapping[str, str] | None, stdin: bool = False
) -> TaskProcess:
    """Start `argv` in its own session with merged, non-blocking output.

    Raises:
        OSError: the program cannot be started (not found, not executable).
    """
    popen = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    assert popen.stdout is not None
    os.set_blocking(popen.stdout.fileno(), False)
    return TaskProcess(popen, _open_pidfd(popen.pid))


def send_spec(process: TaskProcess, spec: bytes) -> None:
    """Hand a task spec to an executor process waiting on stdin."""
    assert process.popen.stdin is not None
    try:
        process.popen.stdin.write(spec)
        process.popen.stdin.close()
    except BrokenPipeError:
        pass  # it died before reading; its exit code tells the story


class WarmPool:
    """Interpreters started ahead of need for one Python; each runs exactly one task."""

    def __init__(self, python: str = sys.executable, size: int = 2, cwd: Path | None = None) -> None:
        self.python = python
        self.size = max(0, size)
        self.cwd = cwd
        self._idle: list[TaskProcess] = []

    def fill(self) -> None:
        """Start interpreters until `size` are waiting."""
        while len(self._idle) < self.size:
            self._idle.append(start_process(executor_command(self.python), self.cwd, None, stdin=True))

    def take(self) -> TaskProcess:
        """A started executor process (a waiting one when available); the pool refills afterwards."""
        while self._idle:
            process = self._idle.pop(0)
            if process.popen.poll() is None:
                return process
            process.close()
        return start_process(executor_command(self.python), self.cwd, None, stdin=True)

    def close(self) -> None:
        """Stop the waiting interpreters."""
        for process in self._idle:
            process.kill("pool closed")
            with contextlib.suppress(Exception):
                process.popen.wait(timeout=5)
            if process.popen.stdin is not None:
                with contextlib.suppress(Exception):
                    process.popen.stdin.close()
            process.close()
        self._idle.clear()
