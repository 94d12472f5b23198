"""JSON documents of pipelines, KFP-style experiments and runs (with their task graph) for the REST API.

A run's task graph: one node per task (loop iterations are their own tasks, `train[2]`) with its state,
attempts, times, duration, outputs and artifacts, and the edges between the pipeline's tasks (`.after()`
and data dependencies) from the compiled pipeline, so a client can draw the DAG with states on it.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel

from pipelines.compiler.ir import PipelineSpec, TaskOutputRef, TemplateRef
from tuner.store import StoreReader
from tuner.store.records import Pipeline, PipelineRun, PipelineVersion, Task

_ITERATION = re.compile(r"(\[\d+\])+$")
_TEMPLATE_TASK = re.compile(r"\{\{\s*tasks\.([A-Za-z0-9_.-]+?)\.outputs")


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 3)


def version_document(version: PipelineVersion, with_spec: bool = False) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": str(version.id),
        "name": version.name,
        "digest": version.spec_digest,
        "createdAt": _iso(version.created_at),
    }
    if with_spec:
        document["spec"] = version.spec
    return document


def pipeline_document(store: StoreReader, pipeline: Pipeline) -> dict[str, Any]:
    versions = store.list_pipeline_versions(pipeline.id)
    parameters = {}
    if versions:
        inputs = (versions[-1].spec or {}).get("inputs") or {}
        parameters = {k: v for k, v in inputs.items() if isinstance(v, dict)}
    return {
        "id": str(pipeline.id),
        "name": pipeline.name,
        "namespace": pipeline.namespace,
        "description": pipeline.description,
        "createdAt": _iso(pipeline.created_at),
        "parameters": parameters,
        "versions": [version_document(v) for v in versions],
    }


def _refs(value: Any) -> set[str]:
    """The tasks a task argument reads from (data dependencies)."""
    found: set[str] = set()
    if isinstance(value, TaskOutputRef):
        found.add(value.task)
    elif isinstance(value, TemplateRef):
        found.update(_TEMPLATE_TASK.findall(value.template))
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            found |= _refs(getattr(value, name))
    elif isinstance(value, (list, tuple)):
        for item in value:
            found |= _refs(item)
    elif isinstance(value, dict):
        for item in value.values():
            found |= _refs(item)
    return found


def task_edges(spec: PipelineSpec) -> list[dict[str, str]]:
    """Edges between the pipeline's tasks: `.after()` and data dependencies, each once."""
    edges: set[tuple[str, str, str]] = set()
    for name, task in spec.tasks.items():
        data = _refs(task.arguments)
        for source in data:
            if source in spec.tasks and source != name:
                edges.add((source, name, "data"))
        for source in task.after:
            if source in spec.tasks and source not in data:
                edges.add((source, name, "after"))
    return [{"from": a, "to": b, "kind": k} for a, b, k in sorted(edges)]


def task_document(store: StoreReader, task: Task, with_artifacts: bool) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": str(task.id),
        "name": task.name,
        "task": _ITERATION.sub("", task.name),
        "component": task.component,
        "state": task.state.value,
        "attempts": task.attempts,
        "startedAt": _iso(task.started_at),
        "finishedAt": _iso(task.completed_at),
        "durationSeconds": _seconds(task.started_at, task.completed_at),
        "inputs": task.inputs,
        "outputs": task.outputs,
        "message": task.message,
        "cachedFromTask": str(task.cached_from_task_id) if task.cached_from_task_id else None,
        "hasLog": bool(task.logs_uri),
    }
    if with_artifacts:
        document["artifacts"] = [
            {"id": str(e.artifact_id), "direction": e.direction.value, "port": e.port}
            for e in store.list_events(task_id=task.id)
        ]
    return document


def run_document(
    store: StoreReader,
    run: PipelineRun,
    *,
    pipeline: tuple[Pipeline, PipelineVersion] | None,
    experiment: str | None,
    with_tasks: bool = False,
) -> dict[str, Any]:
    """A run; with `with_tasks` its task graph too (tasks with artifacts, and the pipeline's edges)."""
    document: dict[str, Any] = {
        "id": str(run.id),
        "name": run.name,
        "namespace": run.namespace,
        "experimentName": experiment,
        "pipeline": None
        if pipeline is None
        else {
            "id": str(pipeline[0].id),
            "name": pipeline[0].name,
            "version": pipeline[1].name,
            "versionId": str(pipeline[1].id),
        },
        "state": run.state.value,
        "message": run.message,
        "arguments": run.arguments,
        "trial": str(run.trial_id) if run.trial_id else None,
        "createdAt": _iso(run.created_at),
        "startedAt": _iso(run.started_at),
        "finishedAt": _iso(run.completed_at),
        "durationSeconds": _seconds(run.started_at, run.completed_at),
    }
    if with_tasks:
        tasks = store.list_tasks(run.id)
        counts: dict[str, int] = {}
        for task in tasks:
            counts[task.state.value] = counts.get(task.state.value, 0) + 1
        document["taskCounts"] = counts
        document["tasks"] = [task_document(store, t, True) for t in tasks]
        edges: list[dict[str, str]] = []
        if pipeline is not None:
            try:
                edges = task_edges(PipelineSpec.model_validate(pipeline[1].spec))
            except ValueError:
                edges = []
        document["edges"] = edges
    return document
