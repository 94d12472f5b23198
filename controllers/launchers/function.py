"""Function trials for `tuner.tune`: a Python callable run in a pool of worker processes, or in threads.

Workers are forked once and reused, so a trial costs a message round trip rather than a process start.
A worker runs one trial at a time: it points its stdout/stderr at the trial's log file, installs a reporter
so `tuner.report` sends values to the controller over the worker's pipe, calls the objective with the
trial's typed parameters and sends back the return value (a number or a dict of metrics) or the traceback.
Cancelling a trial kills its worker's process group and forks a fresh worker.

Thread mode (`threads=True`) runs the objective in a thread of the controller's process, for objectives that
cannot be forked (e.g. holding a GPU context) or are too cheap to be worth a process. A thread cannot be killed:
it is stopped cooperatively, `tuner.report` raising `TrialStopped` at its next call.

Workers die with the controller only when idle; a busy orphan finishes its call and exits. Function trials
cannot be re-attached after a controller restart (`attach` returns None: the controller reruns them).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from controllers.launchers.base import Handle, Launcher, LaunchRequest, Phase, RunInfo, Status
from tuner import reporting

Objective = Callable[[dict[str, Any]], Any]
PushedValue = tuple[int | None, dict[str, float], float]


@dataclass
class FunctionHandle(Handle):
    trial: str
    started_at: float
    deadline_seconds: float | None
    log_file: Path
    outcome: Status | None = None
    result: Any = None
    pushed: list[PushedValue] = field(default_factory=list)
    worker: _Worker | None = None
    thread: threading.Thread | None = None
    stop_flag: threading.Event = field(default_factory=threading.Event)

    @property
    def info(self) -> RunInfo:
        return RunInfo(launcher=FunctionLauncher.name, data={"log_path": str(self.log_file)})


class FunctionLauncher(Launcher):
    """Runs `objective(params)` for each trial; `LaunchRequest.payload` is the params dict."""

    name = "function"

    def __init__(self, objective: Objective, *, workers: int = 1, threads: bool = False) -> None:
        self._objective = objective
        self._threads = threads or not _can_fork()
        self._size = max(workers, 1)
        self._idle: list[_Worker] = []
        self._busy: dict[int, tuple[_Worker, FunctionHandle]] = {}
        self._thread_lock = threading.Lock()
        self._thread_event = threading.Event()

    # -- contract -------------------------------------------------------------------------------
    def launch(self, request: LaunchRequest) -> FunctionHandle:
        handle = FunctionHandle(
            trial=request.trial,
            started_at=time.time(),
            deadline_seconds=request.deadline_seconds,
            log_file=Path(request.log_path),
        )
        handle.log_file.parent.mkdir(parents=True, exist_ok=True)
        params = dict(request.payload or {})
        if self._threads:
            handle.thread = threading.Thread(
                target=self._run_in_thread, args=(handle, params, dict(request.env)), daemon=True
            )
            handle.thread.start()
            return handle
        worker = self._idle.pop() if self._idle else _Worker.start(self._objective)
        worker.send(("run", request.trial, params, dict(request.env), str(handle.log_file)))
        handle.worker = worker
        self._busy[worker.pid] = (worker, handle)
        return handle

    def poll(self, handle: Handle) -> Status:
        h = _own(handle)
        self._pump()
        if h.outcome is not None:
            return h.outcome
        if h.deadline_seconds is not None and time.time() - h.started_at > h.deadline_seconds:
            self._stop(h)
            h.outcome = Status(
                Phase.TIMED_OUT, message=f"stopped at its deadline of {h.deadline_seconds:g} s"
            )
            return h.outcome
        return Status(Phase.RUNNING)

    def cancel(self, handle: Handle, grace_seconds: float = 10.0) -> None:
        h = _own(handle)
        self._pump()
        if h.outcome is None:
            self._stop(h, grace_seconds)
            h.outcome = Status(Phase.CANCELLED, message="stopped on request")

    def attach(self, info: RunInfo) -> Handle | None:
        return None

    def log_path(self, handle: Handle) -> Path:
        return _own(handle).log_file

    def wait(self, handles: list[Handle], timeout: float) -> None:
        """Sleep until a worker sends something (a report, a result) or a trial thread ends."""
        if self._threads:
            self._thread_event.wait(timeout)
            self._thread_event.clear()
            return
        conns = [w.conn for w, _ in self._busy.values()]
        if conns:
            multiprocessing.connection.wait(conns, timeout=timeout)
        elif timeout > 0:
            time.sleep(timeout)

    def take_pushed(self, handle: Handle) -> list[PushedValue]:
        """Values the trial reported with `tuner.report` since the last call (oldest first)."""
        h = _own(handle)
        self._pump()
        with self._thread_lock:
            taken, h.pushed = h.pushed, []
        return taken

    def result(self, handle: Handle) -> Any:
        """The objective's return value, once the attempt succeeded."""
        return _own(handle).result

    def close(self) -> None:
        for _worker, handle in list(self._busy.values()):
            self._stop(handle, grace_seconds=1.0)
        for worker in self._idle:
            worker.shutdown()
        self._idle.clear()

    # -- processes ------------------------------------------------------------------------------
    def _pump(self) -> None:
        """Read every message the busy workers sent, without blocking."""
        if not self._busy:
            return
        by_conn = {id(w.conn): (w, h) for w, h in self._busy.values()}
        ready = multiprocessing.connection.wait([w.conn for w, _ in self._busy.values()], timeout=0)
        for ready_conn in ready:
            worker, handle = by_conn[id(ready_conn)]
            conn = worker.conn
            while True:
                try:
                    if not conn.poll():
                        break
                    message: tuple[Any, ...] = conn.recv()
                except (EOFError, OSError):
                    self._worker_died(worker, handle)
                    break
                if self._handle_message(worker, handle, message):
                    break

    def _handle_message(self, worker: _Worker, handle: FunctionHandle, message: tuple[Any, ...]) -> bool:
        kind = message[0]
        if kind == "report":
            handle.pushed.append((message[1], message[2], message[3]))
            return False
        if kind == "result":
            handle.result = message[1]
            handle.outcome = Status(Phase.SUCCEEDED, exit_code=0)
        else:  # "error"
            handle.outcome = Status(Phase.FAILED, exit_code=1, message=message[1])
        self._busy.pop(worker.pid, None)
        handle.worker = None
        if len(self._idle) < self._size:
            self._idle.append(worker)
        else:
            worker.shutdown()
        return True

    def _worker_died(self, worker: _Worker, handle: FunctionHandle) -> None:
        self._busy.pop(worker.pid, None)
        code = worker.reap()
        if handle.outcome is None:
            handle.outcome = Status(Phase.FAILED, exit_code=code, message=f"the worker process died ({code})")
        handle.worker = None

    def _stop(self, h: FunctionHandle, grace_seconds: float = 10.0) -> None:
        if h.thread is not None:
            h.stop_flag.set()
            h.thread.join(timeout=grace_seconds)
            return
        if h.worker is not None:
            self._busy.pop(h.worker.pid, None)
            h.worker.kill(grace_seconds)
            h.worker = None

    # -- threads --------------------------------------------------------------------------------
    def _run_in_thread(self, handle: FunctionHandle, params: dict[str, Any], env: dict[str, str]) -> None:
        reporting.install_trial_environment(env)  # what the worker processes get in os.environ
        try:
            self._call_in_thread(handle, params)
        finally:
            reporting.install_trial_environment(None)
            self._thread_event.set()  # wake the controller: this trial has news

    def _call_in_thread(self, handle: FunctionHandle, params: dict[str, Any]) -> None:
        def reporter(step: int | None, metrics: dict[str, float], now: float) -> None:
            if handle.stop_flag.is_set():
                raise reporting.TrialStopped()
            with self._thread_lock:
                handle.pushed.append((step, metrics, now))
            self._thread_event.set()

        reporting.install_reporter(reporter, thread_only=True)
        _ThreadOutput.route_current_thread(handle.log_file)
        try:
            value = self._objective(params)
        except reporting.TrialStopped:
            return
        except BaseException:  # the trial's failure, reported with its traceback
            if handle.outcome is None:
                handle.outcome = Status(
                    Phase.FAILED, exit_code=1, message=_last_lines(traceback.format_exc())
                )
            _append(handle.log_file, traceback.format_exc())
            return
        finally:
            reporting.install_reporter(None, thread_only=True)
            _ThreadOutput.route_current_thread(None)
        if handle.outcome is None:
            handle.result = value
            handle.outcome = Status(Phase.SUCCEEDED, exit_code=0)


class _ThreadOutput:
    """A stand-in for sys.stdout/sys.stderr that sends each trial thread's output to its own log file."""

    _lock = threading.Lock()
    _files: ClassVar[dict[int, Any]] = {}

    def __init__(self, original: Any) -> None:
        self._original = original

    @classmethod
    def route_current_thread(cls, log_file: Path | None) -> None:
        ident = threading.get_ident()
        with cls._lock:
            if not isinstance(sys.stdout, cls):
                sys.stdout = cls(sys.stdout)
            if not isinstance(sys.stderr, cls):
                sys.stderr = cls(sys.stderr)
            old = cls._files.pop(ident, None)
            if old is not None:
                old.close()
            if log_file is not None:
                cls._files[ident] = open(log_file, "a", buffering=1)  # noqa: SIM115

    def write(self, text: str) -> int:
        target = self._files.get(threading.get_ident())
        return (target or self._original).write(text)

    def flush(self) -> None:
        target = self._files.get(threading.get_ident())
        (target or self._original).flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: multiprocessing.connection.Connection

    @property
    def pid(self) -> int:
        return int(self.process.pid or 0)

    @classmethod
    def start(cls, objective: Objective) -> _Worker:
        ctx = multiprocessing.get_context("fork")
        parent, child = ctx.Pipe()
        process = ctx.Process(target=_worker_main, args=(objective, child, parent), daemon=False)
        process.start()
        child.close()
        return cls(process, parent)

    def send(self, message: tuple[Any, ...]) -> None:
        self.conn.send(message)

    def kill(self, grace_seconds: float) -> None:
        pid = self.pid
        for sig, wait in ((signal.SIGTERM, grace_seconds), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(pid, sig)
            except (ProcessLookupError, PermissionError):
                break
            self.process.join(wait)
            if not self.process.is_alive():
                break
        self.conn.close()
        self.process.join(1)

    def shutdown(self) -> None:
        try:
            self.conn.send(("exit",))
        except (OSError, BrokenPipeError):
            pass
        self.process.join(2)
        if self.process.is_alive():
            self.kill(1.0)
        self.conn.close()

    def reap(self) -> int | None:
        self.process.join(1)
        return self.process.exitcode


def _worker_main(
    objective: Objective,
    conn: multiprocessing.connection.Connection,
    parent_end: multiprocessing.connection.Connection,
) -> None:
    """Loop in the worker: run trials until told to exit or the controller goes away."""
    parent_end.close()
    os.setpgid(0, 0)  # own process group, so cancelling also stops what the objective started
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the controller's to handle

    def reporter(step: int | None, metrics: dict[str, float], now: float) -> None:
        conn.send(("report", step, metrics, now))

    reporting.install_reporter(reporter)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message[0] != "run":
            return
        _, _trial, params, env, log_path = message
        _point_output_at(log_path)
        os.environ.update(env)
        try:
            value = objective(params)
        except BaseException:
            text = traceback.format_exc()
            sys.stderr.write(text)
            sys.stderr.flush()
            reply: tuple[Any, ...] = ("error", _last_lines(text))
        else:
            reply = ("result", value)
        sys.stdout.flush()
        try:
            conn.send(reply)
        except (OSError, BrokenPipeError):
            return
        except Exception as exc:  # e.g. an unpicklable return value
            conn.send(("error", f"the objective returned a value that cannot be sent back: {exc}"))


def _point_output_at(log_path: str) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    # the forking process may have replaced sys.stdout (pytest, notebooks): write to the real descriptors
    if getattr(sys.stdout, "fileno", None) is None or _fd_of(sys.stdout) != 1:
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
    if getattr(sys.stderr, "fileno", None) is None or _fd_of(sys.stderr) != 2:
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115


def _fd_of(stream: Any) -> int | None:
    try:
        return int(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return None


def _append(path: Path, text: str) -> None:
    with open(path, "a") as out:
        out.write(text)


def _last_lines(text: str, n: int = 12) -> str:
    return "\n".join(text.rstrip().splitlines()[-n:])


def _own(handle: Handle) -> FunctionHandle:
    if not isinstance(handle, FunctionHandle):
        raise TypeError(f"not a function handle: {handle!r}")
    return handle


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def params_of(payload: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict(payload or {})
