"""Driving a stored pipeline run again after its driver died (a server killed with `kill -9`).

The store keeps every task's state and outputs, so a new execution of the same run (same runner id, same
folder) starts only what had not finished: `finished_tasks` turns the stored Succeeded, Cached and Failed
tasks into the runner's `resume` map, and `ResumingRecorder` records into the existing run and tasks
instead of creating new ones (a rerun of an interrupted task counts one more attempt).

A task process of the dead driver may still run (tasks run in sessions of their own). Its pid, start time
and host are recorded in the store with the task (`Store.set_task_process`) when it starts; `settle_orphans` waits such
a process out (if that pid still is the same process), killing its process group after a grace period,
before the task is considered again: a Python task's process that ended with code 0 (its `exit-code` file)
has its outputs adopted (`RunOptions.adopt`), so the step does not run twice; otherwise it runs again.
A task's output after its driver died is lost from the log (the pipe it wrote to is gone); a task that
prints then fails with a broken pipe and runs again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import socket
import time
from collections.abc import Callable
from typing import Any

import psutil

from pipelines.runner.local import ResumedTask
from pipelines.runner.records import ArtifactRef, RunRecord, TaskRecord, TaskState
from pipelines.runner.store_recorder import StoreRecorder
from tuner.errors import NotFoundError
from tuner.store import Store, StoreReader
from tuner.store.records import RunState as StoreRunState
from tuner.store.records import TaskState as StoreTaskState

ORPHAN_GRACE_SECONDS = 300.0
"""How long a resumed run waits for a task process of its dead driver to end (its outputs are then kept)
before killing it and running the task again."""

_KEPT = {StoreTaskState.SUCCEEDED, StoreTaskState.CACHED, StoreTaskState.FAILED}


def _is_artifact(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"uri", "digest"}


def finished_tasks(store: StoreReader, run_id: int) -> dict[str, ResumedTask]:
    """The run's tasks that finished (Succeeded, Cached, Failed) with their outputs, by task name."""
    done: dict[str, ResumedTask] = {}
    for task in store.list_tasks(run_id):
        if task.state not in _KEPT:
            continue
        values = {k: v for k, v in task.outputs.items() if not _is_artifact(v)}
        artifacts: dict[str, ArtifactRef] = {}
        for key, value in task.outputs.items():
            if not _is_artifact(value):
                continue
            try:
                stored = store.get_artifact_by_uri(value["uri"])
            except NotFoundError:
                stored = None
            artifacts[key] = ArtifactRef(
                value["uri"],
                value["digest"],
                stored.size if stored else 0,
                stored.type if stored else None,
                dict(stored.metadata) if stored else {},
            )
        done[task.name] = ResumedTask(
            TaskState(task.state.value), values, artifacts, task.message, max(1, task.attempts)
        )
    return done


def _start_time(pid: int) -> float | None:
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        return float(process.create_time())
    except psutil.Error:
        return None


def settle_orphans(
    store: StoreReader,
    run_id: int,
    grace: float = ORPHAN_GRACE_SECONDS,
    should_stop: Callable[[], object] = lambda: None,
) -> tuple[set[str], list[str]]:
    """Wait out the task processes an earlier driver of the run left running (same pid and start time as
    recorded), killing their process groups after `grace` seconds (or at once when `should_stop()` is
    truthy). Returns (the unfinished tasks, to adopt when their process exited 0; the tasks whose process
    had to be killed)."""
    unfinished = [t for t in store.list_tasks(run_id) if not t.state.is_finished]
    live: dict[str, int] = {}
    for task in unfinished:
        recorded = task.process or {}
        try:
            pid, started = int(recorded["pid"]), float(recorded["started"])
        except (KeyError, TypeError, ValueError):
            continue
        if recorded.get("host") != socket.gethostname():
            continue  # another host's process cannot be judged from here
        now = _start_time(pid)
        if now is not None and abs(now - started) <= 0.05:  # not gone, and not a reused pid
            live[task.name] = pid
    deadline = time.monotonic() + grace
    while live and time.monotonic() < deadline and not should_stop():
        live = {name: pid for name, pid in live.items() if _start_time(pid) is not None}
        if live:
            time.sleep(0.1)
    killed = []
    for name, pid in live.items():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        stop_by = time.monotonic() + 30
        while _start_time(pid) is not None and time.monotonic() < stop_by:
            time.sleep(0.05)
        killed.append(name)
    return {t.name for t in unfinished}, killed


class ResumingRecorder(StoreRecorder):
    """Records an execution into a run created beforehand (by the server, in state Pending) or left
    unfinished by an earlier driver: its tasks are reused by name, attempts keep counting."""

    def __init__(self, store: Store, run_id: int, pipeline_version_id: int | None) -> None:
        super().__init__(store)
        self.store_run = run_id
        self.version_id = pipeline_version_id
        self._offsets: dict[str, int] = {}
        self._recorded: dict[str, int] = {}  # the pid recorded per task

    def pipeline_version(self, name: str, digest: str, document: dict[str, Any]) -> str:
        if self.version_id is not None:
            return str(self.version_id)
        return super().pipeline_version(name, digest, document)

    def run_started(self, run: RunRecord) -> None:
        self._runs[run.run_id] = self.store_run
        for task in self.store.list_tasks(self.store_run):
            self._tasks[(run.run_id, task.name)] = task.id
            self._attempts[task.id] = task.attempts
            if not task.state.is_finished:
                self._offsets[task.name] = task.attempts
        if self.store.get_run(self.store_run).state == StoreRunState.PENDING:
            self.store.update_run(self.store_run, StoreRunState.RUNNING)

    def task_changed(self, task: TaskRecord) -> None:
        offset = self._offsets.get(task.name, 0)
        if offset:
            task = dataclasses.replace(task, attempts=task.attempts + offset)
        # the process first, then the state: whoever sees the task Running can also find its process (a
        # driver killed between the two writes would otherwise leave a Running task whose orphan nobody
        # waits for, and the next driver would run the step a second time beside it)
        if (
            task.state == TaskState.RUNNING
            and task.pid is not None
            and task.pid != self._recorded.get(task.name)
        ):
            started = _start_time(task.pid)
            if started is not None:
                process = {"pid": task.pid, "started": started, "host": socket.gethostname()}
                self.store.set_task_process(self.task_id(task), process)
                self._recorded[task.name] = task.pid
        super().task_changed(task)
