"""SQL for pipelines, versions, runs, tasks, artifacts, lineage events and the task cache.

Part of `tuner.store.sql.SqlStore`; see `tuner.store.base` for the contract. The pipelines runner writes
here; events (an artifact INTO or OUT OF a task or trial) are the edges `_sql_lineage` walks.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import Row, insert, select, update

from tuner.errors import (
    AlreadyExistsError,
    InvalidTransitionError,
    LeaseHeldError,
    NotFoundError,
    StoreValueError,
)
from tuner.store._sql_tuning import T
from tuner.store._sqlbase import SqlBase, new_id, require
from tuner.store._validate import check_name
from tuner.store.models import (
    ArtifactRow,
    CacheEntryRow,
    EventRow,
    PipelineRow,
    PipelineRunRow,
    PipelineVersionRow,
    TaskRow,
    table,
)
from tuner.store.records import (
    DEFAULT_NAMESPACE,
    Artifact,
    CacheEntry,
    Direction,
    Event,
    Pipeline,
    PipelineRun,
    PipelineVersion,
    RunLease,
    RunState,
    Task,
    TaskState,
)

PL = table(PipelineRow)
PV = table(PipelineVersionRow)
R = table(PipelineRunRow)
TK = table(TaskRow)
AR = table(ArtifactRow)
EV = table(EventRow)
C = table(CacheEntryRow)


def _pipeline(row: Row[Any]) -> Pipeline:
    return Pipeline(row.id, row.namespace, row.name, row.description, row.created_at)


def _version(row: Row[Any]) -> PipelineVersion:
    return PipelineVersion(row.id, row.pipeline_id, row.name, dict(row.spec), row.spec_digest, row.created_at)


def _run(row: Row[Any]) -> PipelineRun:
    return PipelineRun(
        id=row.id,
        namespace=row.namespace,
        name=row.name,
        pipeline_version_id=row.pipeline_version_id,
        trial_id=row.trial_id,
        state=RunState(row.state),
        arguments=dict(row.arguments),
        message=row.message,
        created_at=row.created_at,
        updated_at=row.updated_at,
        started_at=row.started_at,
        completed_at=row.completed_at,
    )


def _task(row: Row[Any]) -> Task:
    return Task(
        id=row.id,
        run_id=row.run_id,
        name=row.name,
        component=row.component,
        state=TaskState(row.state),
        inputs=dict(row.inputs),
        outputs=dict(row.outputs),
        cache_key=row.cache_key,
        cached_from_task_id=row.cached_from_task_id,
        attempts=row.attempts,
        logs_uri=row.logs_uri,
        message=row.message,
        created_at=row.created_at,
        updated_at=row.updated_at,
        started_at=row.started_at,
        completed_at=row.completed_at,
        process=dict(row.process) if row.process is not None else None,
    )


def _artifact(row: Row[Any]) -> Artifact:
    return Artifact(
        id=row.id,
        uri=row.uri,
        type=row.type,
        name=row.name,
        digest=row.digest,
        size=row.size,
        metadata=dict(row._mapping["metadata"]),
        created_at=row.created_at,
    )


def _event(row: Row[Any]) -> Event:
    return Event(
        row.id, row.artifact_id, Direction(row.direction), row.task_id, row.trial_id, row.port, row.created_at
    )


def _cache_entry(row: Row[Any]) -> CacheEntry:
    return CacheEntry(row.key, dict(row.outputs), row.task_id, row.created_at)


class PipelinesSql(SqlBase):
    """Pipelines, versions, runs, tasks, artifacts, events and cache entries."""

    # --- pipelines and versions -----------------------------------------------------------------------

    def create_pipeline(
        self, name: str, namespace: str = DEFAULT_NAMESPACE, description: str = ""
    ) -> Pipeline:
        check_name("pipeline name", name)
        check_name("namespace", namespace)
        values = {"namespace": namespace, "name": name, "description": description, "created_at": self._now()}
        with self._creating(f"pipeline {namespace}/{name}"), self._write() as connection:
            pipeline_id = new_id(connection.execute(insert(PL).values(values)))
            return _pipeline(require(connection, PL, pipeline_id, "pipeline"))

    def get_pipeline(self, name: str, namespace: str = DEFAULT_NAMESPACE) -> Pipeline:
        with self._read() as connection:
            row = connection.execute(select(PL).where(PL.c.namespace == namespace, PL.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"pipeline {namespace}/{name} does not exist")
        return _pipeline(row)

    def list_pipelines(self, namespace: str | None = None) -> list[Pipeline]:
        query = select(PL).order_by(PL.c.id)
        if namespace is not None:
            query = query.where(PL.c.namespace == namespace)
        with self._read() as connection:
            return [_pipeline(row) for row in connection.execute(query)]

    def create_pipeline_version(
        self, pipeline_id: int, name: str, spec: Mapping[str, Any], spec_digest: str
    ) -> PipelineVersion:
        check_name("pipeline version name", name)
        check_name("spec digest", spec_digest)
        values = {
            "pipeline_id": pipeline_id,
            "name": name,
            "spec": dict(spec),
            "spec_digest": spec_digest,
            "created_at": self._now(),
        }
        what = f"a version of pipeline {pipeline_id} named {name!r} or with digest {spec_digest}"
        with self._creating(what), self._write() as connection:
            require(connection, PL, pipeline_id, "pipeline")
            version_id = new_id(connection.execute(insert(PV).values(values)))
            return _version(require(connection, PV, version_id, "pipeline version"))

    def get_pipeline_version(
        self, pipeline_id: int, *, name: str | None = None, spec_digest: str | None = None
    ) -> PipelineVersion:
        if (name is None) == (spec_digest is None):
            raise StoreValueError("give exactly one of name and spec_digest to find a pipeline version")
        condition = PV.c.name == name if name is not None else PV.c.spec_digest == spec_digest
        with self._read() as connection:
            require(connection, PL, pipeline_id, "pipeline")
            row = connection.execute(select(PV).where(PV.c.pipeline_id == pipeline_id, condition)).first()
        if row is None:
            key = f"named {name!r}" if name is not None else f"with digest {spec_digest}"
            raise NotFoundError(f"pipeline {pipeline_id} has no version {key}")
        return _version(row)

    def list_pipeline_versions(self, pipeline_id: int) -> list[PipelineVersion]:
        with self._read() as connection:
            require(connection, PL, pipeline_id, "pipeline")
            rows = connection.execute(select(PV).where(PV.c.pipeline_id == pipeline_id).order_by(PV.c.id))
            return [_version(row) for row in rows]

    # --- runs -------------------------------------------------------------------------------------------

    def create_run(
        self,
        name: str,
        *,
        pipeline_version_id: int | None = None,
        arguments: Mapping[str, Any] | None = None,
        trial_id: int | None = None,
        namespace: str = DEFAULT_NAMESPACE,
    ) -> PipelineRun:
        check_name("run name", name)
        now = self._now()
        values = {
            "namespace": namespace,
            "name": name,
            "pipeline_version_id": pipeline_version_id,
            "trial_id": trial_id,
            "state": RunState.PENDING.value,
            "arguments": dict(arguments or {}),
            "message": "",
            "created_at": now,
            "updated_at": now,
        }
        with self._write() as connection:
            if pipeline_version_id is not None:
                require(connection, PV, pipeline_version_id, "pipeline version")
            if trial_id is not None:
                require(connection, T, trial_id, "trial")
            run_id = new_id(connection.execute(insert(R).values(values)))
            return _run(require(connection, R, run_id, "pipeline run"))

    # --- run leases (revision 0004) ---------------------------------------------------------------------

    def get_run_lease(self, run_id: int) -> RunLease | None:
        with self._read() as connection:
            row = require(connection, R, run_id, "pipeline run")
            if row.lease_holder is None or row.lease_expires_at <= self._now():
                return None
            return RunLease(row.id, row.lease_holder, row.lease_acquired_at, row.lease_expires_at)

    def acquire_run_lease(
        self, run_id: int, holder: str, ttl: float, *, replacing: str | None = None
    ) -> RunLease:
        check_name("lease holder", holder)
        expires_at, now = self._run_expiry(ttl)
        with self._write() as connection:
            row = require(connection, R, run_id, "pipeline run", lock=True)
            current = row.lease_holder if row.lease_holder and row.lease_expires_at > now else None
            if current is not None and current not in (holder, replacing):
                raise LeaseHeldError(
                    f"pipeline run {row.id} ({row.name!r}) is driven by {current!r} until "
                    f"{row.lease_expires_at.isoformat(timespec='seconds')}"
                )
            acquired_at = row.lease_acquired_at if row.lease_holder == holder else now
            return self._set_run_lease(connection, row.id, holder, acquired_at, expires_at)

    def renew_run_lease(self, run_id: int, holder: str, ttl: float) -> RunLease:
        check_name("lease holder", holder)
        expires_at, _ = self._run_expiry(ttl)
        with self._write() as connection:
            row = require(connection, R, run_id, "pipeline run", lock=True)
            if row.lease_holder != holder:
                taken = f"was taken by {row.lease_holder!r}" if row.lease_holder else "was released"
                raise LeaseHeldError(f"pipeline run {row.id}: the lease of {holder!r} {taken}")
            return self._set_run_lease(connection, row.id, holder, row.lease_acquired_at, expires_at)

    def release_run_lease(self, run_id: int, holder: str) -> None:
        with self._write() as connection:
            require(connection, R, run_id, "pipeline run", lock=True)
            connection.execute(
                update(R)
                .where(R.c.id == run_id, R.c.lease_holder == holder)
                .values(lease_holder=None, lease_acquired_at=None, lease_expires_at=None)
            )

    def _run_expiry(self, ttl: float) -> tuple[Any, Any]:
        if not ttl > 0:
            raise StoreValueError(f"lease ttl must be a positive number of seconds, got {ttl!r}")
        now = self._now()
        return now + timedelta(seconds=ttl), now

    @staticmethod
    def _set_run_lease(
        connection: Any, run_id: int, holder: str, acquired_at: Any, expires_at: Any
    ) -> RunLease:
        connection.execute(
            update(R)
            .where(R.c.id == run_id)
            .values(lease_holder=holder, lease_acquired_at=acquired_at, lease_expires_at=expires_at)
        )
        return RunLease(run_id, holder, acquired_at, expires_at)

    def update_run(self, run_id: int, state: RunState, message: str = "") -> PipelineRun:
        state = RunState(state)
        now = self._now()
        with self._write() as connection:
            row = require(connection, R, run_id, "pipeline run", lock=True)
            old = RunState(row.state)
            if old.is_finished and state != old:
                raise InvalidTransitionError(
                    f"pipeline run {row.name!r} ({run_id}) is {old.value} and cannot become {state.value}"
                )
            values: dict[str, Any] = {"state": state.value, "message": message, "updated_at": now}
            if state == RunState.RUNNING and row.started_at is None:
                values["started_at"] = now
            if state.is_finished and row.completed_at is None:
                values["completed_at"] = now
            connection.execute(update(R).where(R.c.id == run_id).values(values))
            return _run(require(connection, R, run_id, "pipeline run"))

    def get_run(self, run_id: int) -> PipelineRun:
        with self._read() as connection:
            return _run(require(connection, R, run_id, "pipeline run"))

    def list_runs(
        self,
        namespace: str | None = None,
        pipeline_version_id: int | None = None,
        trial_id: int | None = None,
        states: Collection[RunState] | None = None,
    ) -> list[PipelineRun]:
        query = select(R).order_by(R.c.id)
        if namespace is not None:
            query = query.where(R.c.namespace == namespace)
        if pipeline_version_id is not None:
            query = query.where(R.c.pipeline_version_id == pipeline_version_id)
        if trial_id is not None:
            query = query.where(R.c.trial_id == trial_id)
        if states is not None:
            query = query.where(R.c.state.in_([RunState(s).value for s in states]))
        with self._read() as connection:
            return [_run(row) for row in connection.execute(query)]

    # --- tasks ------------------------------------------------------------------------------------------

    def create_task(
        self,
        run_id: int,
        name: str,
        *,
        component: str = "",
        inputs: Mapping[str, Any] | None = None,
        cache_key: str | None = None,
    ) -> Task:
        check_name("task name", name)
        now = self._now()
        values = {
            "run_id": run_id,
            "name": name,
            "component": component,
            "state": TaskState.PENDING.value,
            "inputs": dict(inputs or {}),
            "outputs": {},
            "cache_key": cache_key,
            "attempts": 0,
            "message": "",
            "created_at": now,
            "updated_at": now,
        }
        with self._creating(f"task {name!r} of pipeline run {run_id}"), self._write() as connection:
            require(connection, R, run_id, "pipeline run")
            task_id = new_id(connection.execute(insert(TK).values(values)))
            return _task(require(connection, TK, task_id, "task"))

    def set_task_process(self, task_id: int, process: Mapping[str, Any] | None) -> Task:
        with self._write() as connection:
            require(connection, TK, task_id, "task", lock=True)
            connection.execute(
                update(TK)
                .where(TK.c.id == task_id)
                .values(process=dict(process) if process is not None else None, updated_at=self._now())
            )
            return _task(require(connection, TK, task_id, "task"))

    def update_task(
        self,
        task_id: int,
        *,
        state: TaskState | None = None,
        outputs: Mapping[str, Any] | None = None,
        message: str | None = None,
        logs_uri: str | None = None,
        new_attempt: bool = False,
        cached_from_task_id: int | None = None,
    ) -> Task:
        now = self._now()
        with self._write() as connection:
            row = require(connection, TK, task_id, "task", lock=True)
            values: dict[str, Any] = {"updated_at": now}
            if state is not None:
                state = TaskState(state)
                old = TaskState(row.state)
                if old.is_finished and state != old:
                    raise InvalidTransitionError(
                        f"task {row.name!r} ({task_id}) is {old.value} and cannot become {state.value}"
                    )
                values["state"] = state.value
                if state == TaskState.RUNNING and row.started_at is None:
                    values["started_at"] = now
                if state.is_finished and row.completed_at is None:
                    values["completed_at"] = now
            if outputs is not None:
                values["outputs"] = dict(outputs)
            if message is not None:
                values["message"] = message
            if logs_uri is not None:
                values["logs_uri"] = logs_uri
            if new_attempt:
                values["attempts"] = TK.c.attempts + 1
            if cached_from_task_id is not None:
                require(connection, TK, cached_from_task_id, "task")
                values["cached_from_task_id"] = cached_from_task_id
            connection.execute(update(TK).where(TK.c.id == task_id).values(values))
            return _task(require(connection, TK, task_id, "task"))

    def get_task(self, task_id: int) -> Task:
        with self._read() as connection:
            return _task(require(connection, TK, task_id, "task"))

    def list_tasks(self, run_id: int) -> list[Task]:
        with self._read() as connection:
            require(connection, R, run_id, "pipeline run")
            return [
                _task(row)
                for row in connection.execute(select(TK).where(TK.c.run_id == run_id).order_by(TK.c.id))
            ]

    # --- artifacts, events, cache -----------------------------------------------------------------------

    def register_artifact(
        self,
        uri: str,
        *,
        type: str,
        digest: str,
        size: int,
        name: str = "",
        metadata: Mapping[str, Any] | None = None,
    ) -> Artifact:
        check_name("artifact type", type)
        if not uri:
            raise StoreValueError("artifact uri must be non-empty")
        if size < 0:
            raise StoreValueError(f"artifact size must be 0 or more bytes, got {size}")
        values = {
            "uri": uri,
            "type": type,
            "name": name,
            "digest": digest,
            "size": size,
            "metadata": dict(metadata or {}),
            "created_at": self._now(),
        }
        insert_new = self._upsert(AR).values(values).on_conflict_do_nothing(index_elements=[AR.c.uri])
        with self._write() as connection:
            connection.execute(insert_new)  # concurrent registrations of one URI: the first one wins
            row = connection.execute(select(AR).where(AR.c.uri == uri)).one()
            if row.digest != digest:
                raise AlreadyExistsError(
                    f"artifact {uri} is registered with digest {row.digest}, not {digest}; "
                    "artifacts are immutable, so store changed content under a new URI"
                )
            return _artifact(row)

    def get_artifact(self, artifact_id: int) -> Artifact:
        with self._read() as connection:
            return _artifact(require(connection, AR, artifact_id, "artifact"))

    def get_artifact_by_uri(self, uri: str) -> Artifact:
        with self._read() as connection:
            row = connection.execute(select(AR).where(AR.c.uri == uri)).first()
        if row is None:
            raise NotFoundError(f"no artifact is registered at {uri}")
        return _artifact(row)

    def record_event(
        self,
        artifact_id: int,
        direction: Direction,
        *,
        task_id: int | None = None,
        trial_id: int | None = None,
        port: str = "",
    ) -> Event:
        if (task_id is None) == (trial_id is None):
            raise StoreValueError("an event links an artifact to exactly one of a task or a trial")
        values = {
            "artifact_id": artifact_id,
            "direction": Direction(direction).value,
            "task_id": task_id,
            "trial_id": trial_id,
            "port": port,
            "created_at": self._now(),
        }
        with self._write() as connection:
            require(connection, AR, artifact_id, "artifact")
            if task_id is not None:
                require(connection, TK, task_id, "task")
            if trial_id is not None:
                require(connection, T, trial_id, "trial")
            event_id = new_id(connection.execute(insert(EV).values(values)))
            return _event(require(connection, EV, event_id, "event"))

    def list_events(
        self, *, artifact_id: int | None = None, task_id: int | None = None, trial_id: int | None = None
    ) -> list[Event]:
        query = select(EV).order_by(EV.c.id)
        if artifact_id is not None:
            query = query.where(EV.c.artifact_id == artifact_id)
        if task_id is not None:
            query = query.where(EV.c.task_id == task_id)
        if trial_id is not None:
            query = query.where(EV.c.trial_id == trial_id)
        with self._read() as connection:
            return [_event(row) for row in connection.execute(query)]

    def put_cache_entry(self, key: str, outputs: Mapping[str, Any], task_id: int | None = None) -> CacheEntry:
        check_name("cache key", key)
        values = {"key": key, "outputs": dict(outputs), "task_id": task_id, "created_at": self._now()}
        statement = self._upsert(C).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[C.c.key],
            set_={
                "outputs": statement.excluded.outputs,
                "task_id": statement.excluded.task_id,
                "created_at": statement.excluded.created_at,
            },
        )
        with self._write() as connection:
            if task_id is not None:
                require(connection, TK, task_id, "task")
            connection.execute(statement)
            row = connection.execute(select(C).where(C.c.key == key)).one()
            return _cache_entry(row)

    def lookup_cache(self, key: str) -> CacheEntry | None:
        with self._read() as connection:
            row = connection.execute(select(C).where(C.c.key == key)).first()
        return None if row is None else _cache_entry(row)
