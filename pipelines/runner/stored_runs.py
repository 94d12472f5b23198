"""Reading pipeline runs back from the metadata store, for `tuner pipelines runs list|show`.

`run_rows` gives one row per run; `run_detail` a run with its pipeline, tasks, artifacts read and written;
`run_lines` draws a stored run as its pipeline's groups and tasks, like the summary printed at the end of
a run (states, outputs, log files).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote

from pipelines.compiler.ir import PipelineSpec
from pipelines.runner.console import summary_lines
from pipelines.runner.records import RunRecord, RunState, TaskRecord, TaskState
from tuner.store import StoreReader
from tuner.store.records import PipelineRun, Task

_ITERATION = re.compile(r"(\[\d+\]|@\d+)+$")  # loop iterations `[2]`, recursion levels `@1`


def _seconds(moment: datetime | None) -> float | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def _pipeline_name(store: StoreReader, run: PipelineRun) -> tuple[str, PipelineSpec | None]:
    if run.pipeline_version_id is None:
        return "", None
    for pipeline in store.list_pipelines():
        for version in store.list_pipeline_versions(pipeline.id):
            if version.id == run.pipeline_version_id:
                try:
                    return pipeline.name, PipelineSpec.model_validate(version.spec)
                except ValueError:
                    return pipeline.name, None
    return "", None


def run_rows(store: StoreReader) -> list[dict[str, Any]]:
    """Every pipeline run, oldest first: id, name, pipeline, state, times, task counts."""
    names: dict[int, str] = {}
    for pipeline in store.list_pipelines():
        for version in store.list_pipeline_versions(pipeline.id):
            # "(v2)" read like the KFP SDK version; say what it is: the pipeline's version in the store
            number = (
                version.name[1:] if version.name[:1] == "v" and version.name[1:].isdecimal() else version.name
            )
            names[version.id] = f"{pipeline.name}, pipeline version {number}"
    rows = []
    for run in store.list_runs():
        counts: dict[str, int] = {}
        for task in store.list_tasks(run.id):
            counts[task.state.value] = counts.get(task.state.value, 0) + 1
        started, ended = _seconds(run.started_at), _seconds(run.completed_at)
        rows.append(
            {
                "id": run.id,
                "name": run.name,
                "pipeline": names.get(run.pipeline_version_id or -1, ""),
                "state": run.state.value,
                "message": run.message,
                "started": run.started_at.isoformat() if run.started_at else None,
                "seconds": round(ended - started, 3) if started is not None and ended is not None else None,
                "tasks": counts,
                "trial": run.trial_id,
            }
        )
    return rows


def _record(task: Task) -> TaskRecord:
    outputs = {
        k: v for k, v in task.outputs.items() if not (isinstance(v, dict) and set(v) == {"uri", "digest"})
    }
    log = (
        unquote(task.logs_uri[len("file://") :])  # a file URI escapes `[`, `]` and `@` in instance names
        if task.logs_uri and task.logs_uri.startswith("file://")
        else task.logs_uri
    )
    return TaskRecord(
        run_id=str(task.run_id),
        name=task.name,
        task=_ITERATION.sub("", task.name),
        component=task.component,
        component_digest="",
        state=TaskState(task.state.value)
        if task.state.value in TaskState._value2member_map_
        else TaskState.FAILED,
        inputs=dict(task.inputs),
        outputs=outputs,
        cache_key=task.cache_key,
        cached_from=str(task.cached_from_task_id) if task.cached_from_task_id else None,
        attempts=task.attempts,
        started_at=_seconds(task.started_at),
        finished_at=_seconds(task.completed_at),
        log_path=log,
        message=task.message,
    )


def run_detail(store: StoreReader, run_id: int) -> dict[str, Any]:
    """A run as a document: the run, its pipeline, and each task with its inputs, outputs and artifacts.

    Raises:
        NotFoundError: no run has this id.
    """
    run = store.get_run(run_id)
    pipeline, _ = _pipeline_name(store, run)
    tasks = []
    for task in store.list_tasks(run.id):
        events = store.list_events(task_id=task.id)
        artifacts = [
            {"direction": e.direction.value, "port": e.port, "uri": store.get_artifact(e.artifact_id).uri}
            for e in events
        ]
        tasks.append(
            {
                "name": task.name,
                "state": task.state.value,
                "attempts": task.attempts,
                "inputs": task.inputs,
                "outputs": task.outputs,
                "message": task.message,
                "log": task.logs_uri,
                "cacheKey": task.cache_key,
                "cachedFromTask": task.cached_from_task_id,
                "artifacts": artifacts,
            }
        )
    return {
        "id": run.id,
        "name": run.name,
        "pipeline": pipeline,
        "state": run.state.value,
        "message": run.message,
        "arguments": run.arguments,
        "trial": run.trial_id,
        "started": run.started_at.isoformat() if run.started_at else None,
        "completed": run.completed_at.isoformat() if run.completed_at else None,
        "tasks": tasks,
    }


def run_lines(store: StoreReader, run_id: int) -> list[str]:
    """A stored run drawn as its pipeline's groups and tasks (a text DAG).

    Raises:
        NotFoundError: no run has this id.
    """
    run = store.get_run(run_id)
    name, spec = _pipeline_name(store, run)
    records = [_record(t) for t in store.list_tasks(run.id)]
    state = RunState(run.state.value) if run.state.value in RunState._value2member_map_ else RunState.FAILED
    record = RunRecord(
        run_id=f"{run.id}",
        pipeline_name=name,
        pipeline_digest="",
        arguments=dict(run.arguments),
        state=state,
        started_at=_seconds(run.started_at) or 0.0,
        finished_at=_seconds(run.completed_at),
        message=run.message,
    )
    if spec is None:
        return [f"run {run.id} {run.name!r}: {run.state.value}"] + [
            f"  {t.name}  {t.state.value}  {t.message}" for t in records
        ]
    lines = summary_lines(record, spec, records, {}, show_logs=False)
    lines[0] = f"run {run.id} {run.name!r} of {name}: {run.state.value}" + (
        f" ({run.message})" if run.message else ""
    )
    logs = [f"    {t.name}: {t.log_path}" for t in records if t.log_path]
    return lines + (["  logs:", *logs] if logs else [])
