"""Driving a stored pipeline run again after its driver died (a server killed with `kill -9`).

The store keeps every task's state and outputs, so a new execution of the same run (same runner id, same
folder) starts only what had not finished: `finished_tasks` turns the stored Succeeded, Cached and Failed
tasks into the runner's `resume` map, and `ResumingRecorder` records into the existing run and tasks
instead of creating new ones (a rerun of an interrupted task counts one more attempt).

A task process of the dead driver may still run (tasks run in sessions of their own). Its pid and start
time are written beside the run (`<run dir>/pids/<task>.json`) when it starts; `stop_orphans` kills such
a process group, if that pid still is the same process, before the task is started again, so the step
never runs twice at once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import psutil

from pipelines.runner.local import ResumedTask
from pipelines.runner.records import ArtifactRef, RunRecord, TaskRecord, TaskState
from pipelines.runner.store_recorder import StoreRecorder
from pipelines.runner.task import safe_name
from tuner.errors import NotFoundError
from tuner.store import Store, StoreReader
from tuner.store.records import RunState as StoreRunState
from tuner.store.records import TaskState as StoreTaskState

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


def pid_file(run_dir: Path, task: str) -> Path:
    return run_dir / "pids" / f"{safe_name(task)}.json"


def _start_time(pid: int) -> float | None:
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        return float(process.create_time())
    except psutil.Error:
        return None


def stop_orphans(store: StoreReader, run_id: int, run_dir: Path, timeout: float = 30.0) -> list[str]:
    """Kill the process groups of the run's unfinished tasks that still run from an earlier driver (same
    pid and start time as recorded); returns the tasks whose process was stopped."""
    stopped = []
    for task in store.list_tasks(run_id):
        if task.state.is_finished:
            continue
        path = pid_file(run_dir, task.name)
        try:
            recorded = json.loads(path.read_text(encoding="utf-8"))
            pid, started = int(recorded["pid"]), float(recorded["started"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        now = _start_time(pid)
        if now is None or abs(now - started) > 0.05:
            continue  # gone, or the pid was reused by another process
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        deadline = time.monotonic() + timeout
        while _start_time(pid) is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        stopped.append(task.name)
    return stopped


class ResumingRecorder(StoreRecorder):
    """Records an execution into a run created beforehand (by the server, in state Pending) or left
    unfinished by an earlier driver: its tasks are reused by name, attempts keep counting."""

    def __init__(self, store: Store, run_id: int, pipeline_version_id: int | None) -> None:
        super().__init__(store)
        self.store_run = run_id
        self.version_id = pipeline_version_id
        self._offsets: dict[str, int] = {}
        self.run_dir: Path | None = None

    def pipeline_version(self, name: str, digest: str, document: dict[str, Any]) -> str:
        if self.version_id is not None:
            return str(self.version_id)
        return super().pipeline_version(name, digest, document)

    def run_started(self, run: RunRecord) -> None:
        self._runs[run.run_id] = self.store_run
        self.run_dir = Path(run.run_dir) if run.run_dir else None
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
        super().task_changed(task)
        if task.state == TaskState.RUNNING and task.pid is not None and self.run_dir is not None:
            started = _start_time(task.pid)
            if started is not None:
                path = pid_file(self.run_dir, task.name)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps({"pid": task.pid, "started": started}), encoding="utf-8")
