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

import ast
import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.runner import executor

_EXECUTOR_SOURCE: str | None = None


def executor_source() -> str:
    """The executor module's code, run with `python -c` so the task imports nothing of this package.

    Docstrings and comments are left out (it is also embedded in every Python task of an Argo Workflow).
    """
    global _EXECUTOR_SOURCE
    if _EXECUTOR_SOURCE is None:
        tree = ast.parse(Path(executor.__file__).read_text())
        # Annotations are never evaluated (`from __future__ import annotations`): no need to import typing.
        tree.body = [n for n in tree.body if not (isinstance(n, ast.ImportFrom) and n.module == "typing")]
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if (
                isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef))
                and body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                node.body = body[1:] or [ast.Pass()]
        _EXECUTOR_SOURCE = ast.unparse(tree) + "\n"
    return _EXECUTOR_SOURCE


def executor_command(python: str, fast_start: bool = False) -> list[str]:
    """The command line of a task process that reads its spec on stdin.

    `fast_start` skips `site` at start-up (`-S`); the spec must then carry `site_paths()` as `sitePaths`
    so the executor can put them back (only for the runner's own interpreter).
    """
    return [python, "-S", "-c", executor_source()] if fast_start else [python, "-c", executor_source()]


def site_paths() -> list[str]:
    """This interpreter's site-packages folders (and the user's, when enabled), for `fast_start` tasks."""
    import site

    paths = list(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        user = site.getusersitepackages()
        if os.path.isdir(user):
            paths.insert(0, user)
    return paths


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
    """Interpreters started ahead of need for the runner's own Python; each runs exactly one task.

    Replacements are started by a background thread, so that starting one (several milliseconds of
    fork and exec) never delays handing a task to a waiting interpreter.

    With `fast_start` they start with `-S` (see `executor_command`) and specs given to them must carry
    `site_paths()`. A task that starts child interpreters with `multiprocessing`'s spawn or forkserver
    methods passes `-S` on to them; switch `fast_start` off for such tasks.
    """

    def __init__(
        self, python: str = sys.executable, size: int = 2, cwd: Path | None = None, fast_start: bool = True
    ) -> None:
        self.python = python
        self.fast_start = fast_start
        self.size = max(0, size)
        self.cwd = cwd
        self._idle: list[TaskProcess] = []
        self._lock = threading.Lock()
        self._wanted = threading.Condition(self._lock)
        self._closed = False
        self._thread: threading.Thread | None = None

    def _start(self) -> TaskProcess:
        return start_process(executor_command(self.python, self.fast_start), self.cwd, None, stdin=True)

    def _keep_filled(self) -> None:
        while True:
            with self._wanted:
                while not self._closed and len(self._idle) >= self.size:
                    self._wanted.wait()
                if self._closed:
                    return
            process = self._start()
            with self._lock:
                if self._closed:
                    _discard(process)
                    return
                self._idle.append(process)

    def fill(self) -> None:
        """Ask for interpreters to be started until `size` are waiting (in the background)."""
        if self.size == 0:
            return
        with self._wanted:
            if self._thread is None:
                self._thread = threading.Thread(target=self._keep_filled, name="warm-pool", daemon=True)
                self._thread.start()
            self._wanted.notify()

    def take(self) -> TaskProcess:
        """A started executor process (a waiting one when available). Call `fill()` once the task has
        been handed over to start its replacement."""
        with self._lock:
            while self._idle:
                candidate = self._idle.pop(0)
                if candidate.popen.poll() is None:
                    return candidate
                candidate.close()
        return self._start()

    def close(self) -> None:
        """Stop the background starter and the waiting interpreters."""
        with self._wanted:
            self._closed = True
            self._wanted.notify_all()
            idle, self._idle = self._idle, []
        if self._thread is not None:
            self._thread.join(timeout=10)
        for process in idle:
            _discard(process)


def _discard(process: TaskProcess) -> None:
    process.kill("pool closed")
    with contextlib.suppress(Exception):
        process.popen.wait(timeout=5)
    if process.popen.stdin is not None:
        with contextlib.suppress(Exception):
            process.popen.stdin.close()
    process.close()
