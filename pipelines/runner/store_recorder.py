"""`StoreRecorder`: the `RunRecorder` that writes runs to the metadata store (`tuner.store`).

Each compiled pipeline becomes a pipeline (by name) and a version (by IR digest); each run a pipeline run
with its arguments; each task (one per loop iteration) a task with its inputs, outputs, cache key, attempts
and log file; each stored output an artifact with its digest, and each read or write a lineage event. The
cache lives in the store too, so a second process (another `tuner pipelines run`) reuses earlier outputs.

The runner's own identifiers (a run's uuid, a task's name) are mapped to the store's integer ids here;
`tuner pipelines runs list|show` read the store back. Called from one thread (the runner's loop).
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pipelines.runner.records import ArtifactRef, CacheEntry, LineageEvent, RunRecord, TaskRecord
from tuner.errors import AlreadyExistsError, NotFoundError
from tuner.store import Store
from tuner.store.records import Direction
from tuner.store.records import RunState as StoreRunState
from tuner.store.records import TaskState as StoreTaskState


def _timestamp(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


class StoreRecorder:
    """Records pipeline runs in a `Store`; `close()` closes the store when this recorder opened it."""

    def __init__(self, store: Store, owns_store: bool = False) -> None:
        self.store = store
        self._owns_store = owns_store
        self._runs: dict[str, int] = {}
        self._tasks: dict[tuple[str, str], int] = {}
        self._attempts: dict[int, int] = {}
        self._artifacts: dict[str, int] = {}
        self._cache_sources: dict[str, int] = {}

    def close(self) -> None:
        """Close the store if this recorder owns it."""
        if self._owns_store:
            self.store.close()

    def store_run_id(self, run_id: str) -> int:
        """The store's id of a run this recorder recorded."""
        return self._runs[run_id]

    # --- RunRecorder -----------------------------------------------------------------------------------

    def pipeline_version(self, name: str, digest: str, document: dict[str, Any]) -> str:
        description = str((document.get("pipeline") or {}).get("description") or "")
        try:
            pipeline = self.store.get_pipeline(name)
        except NotFoundError:
            try:
                pipeline = self.store.create_pipeline(name, description=description)
            except AlreadyExistsError:  # another process created it meanwhile
                pipeline = self.store.get_pipeline(name)
        try:
            return str(self.store.get_pipeline_version(pipeline.id, spec_digest=digest).id)
        except NotFoundError:
            pass
        count = len(self.store.list_pipeline_versions(pipeline.id))
        try:
            version = self.store.create_pipeline_version(pipeline.id, f"v{count + 1}", document, digest)
        except AlreadyExistsError:
            try:
                version = self.store.get_pipeline_version(pipeline.id, spec_digest=digest)
            except NotFoundError:  # the name was taken by another digest at the same moment
                version = self.store.create_pipeline_version(
                    pipeline.id, f"v{count + 1}-{digest[7:15]}", document, digest
                )
        return str(version.id)

    def run_started(self, run: RunRecord) -> None:
        created = self.store.create_run(
            run.run_name or f"{run.pipeline_name}-{run.run_id[:8]}",
            pipeline_version_id=int(run.pipeline_version_id) if run.pipeline_version_id else None,
            arguments=run.arguments,
            trial_id=run.trial_id,
        )
        self._runs[run.run_id] = created.id
        self.store.update_run(created.id, StoreRunState.RUNNING)

    def run_ended(self, run: RunRecord) -> None:
        self.store.update_run(self._runs[run.run_id], StoreRunState(run.state.value), run.message)

    def task_id(self, task: TaskRecord) -> int:
        """The store's id of the task, created (as Pending) the first time it is seen."""
        key = (task.run_id, task.name)
        task_id = self._tasks.get(key)
        if task_id is None:
            task_id = self.store.create_task(
                self._runs[task.run_id],
                task.name,
                component=task.component,
                inputs=task.inputs,
                cache_key=task.cache_key,
            ).id
            self._tasks[key] = task_id
        return task_id

    def task_changed(self, task: TaskRecord) -> None:
        task_id = self.task_id(task)
        new_attempt = task.attempts > self._attempts.get(task_id, 0)
        self._attempts[task_id] = task.attempts
        outputs: dict[str, Any] = dict(task.outputs)
        for name, ref in task.output_artifacts.items():
            outputs.setdefault(name, {"uri": ref.uri, "digest": ref.digest})
        log = Path(task.log_path) if task.log_path else None
        self.store.update_task(
            task_id,
            state=StoreTaskState(task.state.value),
            outputs=outputs,
            message=task.message,
            logs_uri=log.as_uri() if log is not None and log.exists() else None,
            new_attempt=new_attempt,
            cached_from_task_id=self._cache_sources.get(task.cached_from or ""),
        )

    def _artifact_id(self, ref: ArtifactRef, name: str) -> int:
        artifact_id = self._artifacts.get(ref.uri)
        if artifact_id is None:
            artifact_id = self.store.register_artifact(
                ref.uri,
                type=ref.artifact_type or "artifact",
                digest=ref.digest,
                size=ref.size,
                name=name,
                metadata=ref.metadata,
            ).id
            self._artifacts[ref.uri] = artifact_id
        return artifact_id

    def artifact_registered(self, run_id: str, task: str, name: str, artifact: ArtifactRef) -> None:
        self._artifact_id(artifact, name)

    def lineage_event(self, event: LineageEvent) -> None:
        direction = Direction.INPUT if event.kind == "input" else Direction.OUTPUT
        self.store.record_event(
            self._artifact_id(event.artifact, event.name),
            direction,
            task_id=self._tasks[(event.run_id, event.task)],
            port=event.name,
        )

    def cache_lookup(self, key: str, max_age_seconds: float | None = None) -> CacheEntry | None:
        entry = self.store.lookup_cache(key)
        if entry is None:
            return None
        created = _timestamp(entry.created_at)
        if max_age_seconds is not None and datetime.now(timezone.utc).timestamp() - created > max_age_seconds:
            return None
        run, task = "", ""
        if entry.task_id is not None:
            source = self.store.get_task(entry.task_id)
            run, task = str(source.run_id), source.name
            self._cache_sources[f"{run}/{task}"] = source.id
        artifacts = {k: ArtifactRef.from_dict(v) for k, v in (entry.outputs.get("artifacts") or {}).items()}
        return CacheEntry(key, dict(entry.outputs.get("values") or {}), artifacts, run, task, created)

    def cache_put(self, entry: CacheEntry) -> None:
        self.store.put_cache_entry(
            entry.key,
            {
                "values": entry.outputs,
                "artifacts": {k: v.to_dict() for k, v in entry.output_artifacts.items()},
            },
            task_id=self._tasks.get((entry.run_id, entry.task)),
        )
