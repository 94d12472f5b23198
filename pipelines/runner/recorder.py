"""Where the runner reports what happens: the `RunRecorder` contract and its in-memory implementation.

The runner calls a recorder at each step of a run (run started/ended, a task changed state, an artifact
was stored, a task read or wrote an artifact, a cache lookup or store). The in-memory recorder keeps
everything in dicts; it backs the tests and a single process's runs (its cache lives as long as the
recorder). A recorder backed by `tuner.store` implements the same methods to make runs, tasks, lineage and
the cache durable and visible to `tuner pipelines runs` and the dashboard.

Thread safety: the runner calls a recorder from one thread only.
"""

from __future__ import annotations

import copy
import time
import uuid
from typing import Any, Protocol, runtime_checkable

from pipelines.runner.records import ArtifactRef, CacheEntry, LineageEvent, RunRecord, TaskRecord


@runtime_checkable
class RunRecorder(Protocol):
    """Receives a run's records as they happen. Implementations must not keep references to the objects
    passed in (the runner mutates its `TaskRecord`s); copy what you keep."""

    def pipeline_version(self, name: str, digest: str, document: dict[str, Any]) -> str:
        """Register the compiled pipeline (idempotent for the same digest); return the version's id."""
        ...

    def run_started(self, run: RunRecord) -> None:
        """A run begins; `run.run_id` is new."""
        ...

    def run_ended(self, run: RunRecord) -> None:
        """A run finished with `run.state`."""
        ...

    def task_changed(self, task: TaskRecord) -> None:
        """A task was created or changed state, attempts, outputs or message."""
        ...

    def artifact_registered(self, run_id: str, task: str, name: str, artifact: ArtifactRef) -> None:
        """A task's output was stored in the artifact store."""
        ...

    def lineage_event(self, event: LineageEvent) -> None:
        """A task read or wrote an artifact."""
        ...

    def cache_lookup(self, key: str, max_age_seconds: float | None = None) -> CacheEntry | None:
        """The newest entry for `key` no older than `max_age_seconds` (any age when None), or None."""
        ...

    def cache_put(self, entry: CacheEntry) -> None:
        """Remember a task's outputs under its cache key (a newer entry replaces an older one)."""
        ...


class InMemoryRecorder:
    """A `RunRecorder` that keeps everything in this process; inspect its attributes in tests."""

    def __init__(self) -> None:
        self.pipelines: dict[str, dict[str, Any]] = {}
        self.runs: dict[str, RunRecord] = {}
        self.tasks: dict[str, dict[str, TaskRecord]] = {}
        self.task_history: list[TaskRecord] = []
        self.artifacts: list[tuple[str, str, str, ArtifactRef]] = []
        self.events: list[LineageEvent] = []
        self.cache: dict[str, CacheEntry] = {}

    def pipeline_version(self, name: str, digest: str, document: dict[str, Any]) -> str:
        for version_id, entry in self.pipelines.items():
            if entry["digest"] == digest:
                return version_id
        version_id = uuid.uuid4().hex
        self.pipelines[version_id] = {"name": name, "digest": digest, "document": copy.deepcopy(document)}
        return version_id

    def run_started(self, run: RunRecord) -> None:
        self.runs[run.run_id] = copy.deepcopy(run)
        self.tasks[run.run_id] = {}

    def run_ended(self, run: RunRecord) -> None:
        self.runs[run.run_id] = copy.deepcopy(run)

    def task_changed(self, task: TaskRecord) -> None:
        snapshot = copy.deepcopy(task)
        self.tasks.setdefault(task.run_id, {})[task.name] = snapshot
        self.task_history.append(snapshot)

    def artifact_registered(self, run_id: str, task: str, name: str, artifact: ArtifactRef) -> None:
        self.artifacts.append((run_id, task, name, artifact))

    def lineage_event(self, event: LineageEvent) -> None:
        self.events.append(event)

    def cache_lookup(self, key: str, max_age_seconds: float | None = None) -> CacheEntry | None:
        entry = self.cache.get(key)
        if entry is None:
            return None
        if max_age_seconds is not None and time.time() - entry.created_at > max_age_seconds:
            return None
        return entry

    def cache_put(self, entry: CacheEntry) -> None:
        self.cache[entry.key] = entry
