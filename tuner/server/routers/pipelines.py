"""`/api/v1/pipelines/{namespace}`, `/api/v1/pipeline-experiments/{namespace}` and `/api/v1/runs/{namespace}`:
upload compiled pipeline packages, group runs in KFP-style experiments, run pipelines with arguments in the
background (many at once), read a run with its task graph, a task's log, cancel a run.

What KFP users upload is the compiled package (`Compiler().compile(func, "pipeline.yaml")`: YAML, or a
.zip/.tar.gz holding `pipeline.yaml`); a run names an uploaded pipeline (and optionally its version) or
carries the compiled pipeline inline (`pipelineSpec`, what `Client(host).create_run_from_pipeline_func`
sends), which registers it as a version first, as KFP does.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import PlainTextResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from controllers.collectors.follow import FileFollower
from pipelines.compiler.ir import PipelineSpec, dump
from pipelines.compiler.package import load_package, spec_from_document
from pipelines.runner.local import check_arguments
from tuner.errors import AlreadyExistsError, NotFoundError, Problem, SpecError
from tuner.server.paging import WHOLE_NUMBER, decode_cursor, encode_cursor
from tuner.server.pipeline_experiments import DEFAULT_EXPERIMENT, PipelineExperiments
from tuner.server.problems import PROBLEM_RESPONSES, ApiProblem
from tuner.server.run_documents import pipeline_document, run_document, version_document
from tuner.server.run_drivers import RunDrivers
from tuner.store import Store
from tuner.store.records import Pipeline, PipelineRun, PipelineVersion, RunState, Task

pipelines_router = APIRouter(
    prefix="/api/v1/pipelines/{namespace}", tags=["pipelines"], responses=PROBLEM_RESPONSES
)
experiments_router = APIRouter(
    prefix="/api/v1/pipeline-experiments/{namespace}",
    tags=["pipeline experiments"],
    responses=PROBLEM_RESPONSES,
)
runs_router = APIRouter(
    prefix="/api/v1/runs/{namespace}", tags=["pipeline runs"], responses=PROBLEM_RESPONSES
)

MAX_PAGE = 500
MAX_PACKAGE_BYTES = 32 << 20
FOLLOW_POLL_SECONDS = 0.3


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _runs(request: Request) -> RunDrivers:
    drivers: RunDrivers = request.app.state.run_drivers
    return drivers


def _experiments(request: Request) -> PipelineExperiments:
    experiments: PipelineExperiments = request.app.state.pipeline_experiments
    return experiments


# --- pipelines ------------------------------------------------------------------------------------------


def register(
    store: Store, namespace: str, name: str, spec: PipelineSpec, description: str = ""
) -> tuple[Pipeline, PipelineVersion, bool]:
    """The pipeline `name` (created if new) and its version holding `spec` (created if the digest is new).
    The flag says whether anything was created."""
    created = False
    try:
        pipeline = store.get_pipeline(name, namespace)
    except NotFoundError:
        try:
            pipeline = store.create_pipeline(name, namespace, description=description)
            created = True
        except AlreadyExistsError:
            pipeline = store.get_pipeline(name, namespace)
    digest = spec.digest()
    try:
        return pipeline, store.get_pipeline_version(pipeline.id, spec_digest=digest), created
    except NotFoundError:
        pass
    count = len(store.list_pipeline_versions(pipeline.id))
    try:
        version = store.create_pipeline_version(pipeline.id, f"v{count + 1}", dump(spec), digest)
    except AlreadyExistsError:
        try:
            version = store.get_pipeline_version(pipeline.id, spec_digest=digest)
        except NotFoundError:
            version = store.create_pipeline_version(
                pipeline.id, f"v{count + 1}-{digest[7:15]}", dump(spec), digest
            )
    return pipeline, version, True


def _package_suffix(body: bytes, content_type: str) -> str:
    if body[:4] == b"PK\x03\x04" or "zip" in content_type:
        return ".zip"
    if body[:2] == b"\x1f\x8b" or "gzip" in content_type or "tar" in content_type:
        return ".tar.gz"
    return ".json" if "json" in content_type else ".yaml"


def spec_of_package(body: bytes, content_type: str) -> PipelineSpec:
    """A compiled package (YAML/JSON text, or a .zip/.tar.gz with pipeline.yaml), checked.

    Raises:
        SpecError: not a package, or not a valid pipeline (every problem by field path).
    """
    if not body:
        raise SpecError(
            [Problem("body", "empty; send the compiled package (pipeline.yaml, .zip or .tar.gz)")]
        )
    if len(body) > MAX_PACKAGE_BYTES:
        raise SpecError([Problem("body", f"the package is over {MAX_PACKAGE_BYTES >> 20} MiB")])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"pipeline{_package_suffix(body, content_type)}"
        path.write_bytes(body)
        try:
            return load_package(path)
        except SpecError as exc:
            raise SpecError(exc.problems, "<request>") from None
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # bytes that are no package at all
            raise SpecError(
                [Problem("body", f"not a pipeline package (YAML text, .zip or .tar.gz): {exc}")], "<request>"
            ) from None


_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "description": "A compiled pipeline package: the YAML (or JSON) that `Compiler().compile` writes, or a "
        ".zip / .tar.gz holding pipeline.yaml.",
        "content": {
            "application/yaml": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
            "application/zip": {"schema": {"type": "string", "format": "binary"}},
            "application/gzip": {"schema": {"type": "string", "format": "binary"}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@pipelines_router.post("", status_code=201, summary="Upload a pipeline package", openapi_extra=_UPLOAD_BODY)
async def upload_pipeline(
    request: Request,
    response: Response,
    namespace: str,
    name: str | None = Query(None, description="The pipeline's name (default: the name compiled in)."),
    description: str = Query("", description="What the pipeline does."),
) -> dict[str, Any]:
    """Store the package as a version of the pipeline `name` (created when new). Uploading the same
    content again gives the existing version (200)."""
    body = await request.body()
    spec = await run_in_threadpool(spec_of_package, body, request.headers.get("content-type", ""))
    pipeline_name = name or spec.pipeline.name
    store = _store(request)
    pipeline, version, created = await run_in_threadpool(
        register, store, namespace, pipeline_name, spec, description or spec.pipeline.description or ""
    )
    if not created:
        response.status_code = 200
    response.headers["Location"] = (
        f"{request.scope.get('root_path', '')}/api/v1/pipelines/{namespace}/{pipeline.name}"
    )
    document = await run_in_threadpool(pipeline_document, store, pipeline)
    document["uploadedVersion"] = version_document(version)
    return document


@pipelines_router.get("", summary="List pipelines")
def list_pipelines(
    request: Request,
    namespace: str,
    limit: Annotated[
        int, Query(ge=1, le=MAX_PAGE, description="At most this many items."), WHOLE_NUMBER
    ] = 100,
    cursor: str | None = Query(None, description="nextCursor of the previous page."),
) -> dict[str, Any]:
    store = _store(request)
    start = decode_cursor(cursor)
    pipelines = store.list_pipelines(namespace)
    page = pipelines[start : start + limit]
    more = start + limit < len(pipelines)
    return {
        "pipelines": [pipeline_document(store, p) for p in page],
        "nextCursor": encode_cursor(start + limit) if more else "",
    }


@pipelines_router.get("/{name}", summary="Get a pipeline with its versions")
def get_pipeline(request: Request, namespace: str, name: str) -> dict[str, Any]:
    store = _store(request)
    return pipeline_document(store, store.get_pipeline(name, namespace))


@pipelines_router.get("/{name}/versions/{version}", summary="Get a pipeline version with its compiled spec")
def get_pipeline_version(request: Request, namespace: str, name: str, version: str) -> dict[str, Any]:
    store = _store(request)
    pipeline = store.get_pipeline(name, namespace)
    return version_document(store.get_pipeline_version(pipeline.id, name=version), with_spec=True)


# --- KFP-style experiments -------------------------------------------------------------------------------


class ExperimentRequest(BaseModel):
    name: str = Field(description="The experiment's name, unique in the namespace.")
    description: str = Field("", description="What its runs are about.")


@experiments_router.post("", status_code=201, summary="Create a pipeline experiment")
def create_experiment(request: Request, namespace: str, body: ExperimentRequest) -> dict[str, Any]:
    """A named group of runs (KFP's experiments). 409 when the name exists."""
    return _experiments(request).create(namespace, body.name, body.description)


@experiments_router.get("", summary="List pipeline experiments")
def list_experiments(request: Request, namespace: str) -> dict[str, Any]:
    return {"experiments": _experiments(request).list(namespace)}


@experiments_router.get("/{name}", summary="Get a pipeline experiment")
def get_experiment(request: Request, namespace: str, name: str) -> dict[str, Any]:
    return _experiments(request).get(namespace, name)


# --- runs --------------------------------------------------------------------------------------------------


class RunRequest(BaseModel):
    """What to run: an uploaded pipeline (`pipeline`, optionally `version`) or a compiled one inline."""

    name: str | None = Field(None, description="The run's name (default: the pipeline's name and a number).")
    pipeline: str | None = Field(None, description="An uploaded pipeline's name.")
    version: str | None = Field(None, description="Its version's name (default: the newest).")
    pipelineSpec: dict[str, Any] | None = Field(
        None, description="A compiled pipeline (the package's document), registered as a version first."
    )
    arguments: dict[str, Any] = Field(default_factory=dict, description="The pipeline's parameters.")
    experimentName: str | None = Field(
        None,
        description="The pipeline experiment to file the run under (created when new; default 'Default').",
    )
    enableCaching: bool = Field(True, description="Reuse outputs of identical earlier tasks.")


Versions = dict[int, tuple[Pipeline, PipelineVersion]]


def _versions(store: Store, namespace: str) -> Versions:
    """Every pipeline version of the namespace by id (read once per request)."""
    return {
        version.id: (pipeline, version)
        for pipeline in store.list_pipelines(namespace)
        for version in store.list_pipeline_versions(pipeline.id)
    }


def _document(
    request: Request, run: PipelineRun, with_tasks: bool = False, versions: Versions | None = None
) -> dict[str, Any]:
    control = _runs(request).control(run.id)
    store = _store(request)
    known = versions if versions is not None else _versions(store, run.namespace)
    return run_document(
        store,
        run,
        pipeline=known.get(run.pipeline_version_id) if run.pipeline_version_id is not None else None,
        experiment=control.experiment if control else None,
        with_tasks=with_tasks,
    )


def _run_or_404(store: Store, namespace: str, run_id: str) -> PipelineRun:
    if not run_id.isdecimal() or len(run_id) > 18:
        raise NotFoundError(f"no pipeline run {run_id!r} in namespace {namespace!r} (run ids are numbers)")
    try:
        run = store.get_run(int(run_id))
    except NotFoundError:
        run = None
    if run is None or run.namespace != namespace:
        raise NotFoundError(f"no pipeline run {run_id!r} in namespace {namespace!r}")
    return run


def _create_run(request: Request, namespace: str, body: RunRequest) -> PipelineRun:
    store = _store(request)
    if (body.pipeline is None) == (body.pipelineSpec is None):
        raise SpecError(
            [
                Problem(
                    "pipeline", "give exactly one of pipeline (an uploaded pipeline's name) and pipelineSpec"
                )
            ],
            "<request>",
        )
    if body.pipelineSpec is not None:
        try:
            spec = spec_from_document(body.pipelineSpec, "<request>")
        except SpecError as exc:
            raise SpecError(
                [Problem(f"pipelineSpec.{p.path}".rstrip("."), p.message) for p in exc.problems]
            ) from None
        _, version, _ = register(store, namespace, spec.pipeline.name, spec, spec.pipeline.description or "")
    else:
        assert body.pipeline is not None
        pipeline = store.get_pipeline(body.pipeline, namespace)
        if body.version:
            version = store.get_pipeline_version(pipeline.id, name=body.version)
        else:
            versions = store.list_pipeline_versions(pipeline.id)
            if not versions:
                raise NotFoundError(f"pipeline {body.pipeline!r} has no version; upload its package")
            version = versions[-1]
        spec = PipelineSpec.model_validate(version.spec)
    arguments = check_arguments(spec, body.arguments)
    experiment = body.experimentName or DEFAULT_EXPERIMENT
    _experiments(request).ensure(namespace, experiment)
    count = len(store.list_runs(namespace, pipeline_version_id=version.id))
    name = body.name or f"{spec.pipeline.name}-{count + 1}"
    return _runs(request).submit(
        store,
        namespace=namespace,
        name=name,
        version_id=version.id,
        arguments=arguments,
        experiment=experiment,
        enable_caching=body.enableCaching,
    )


@runs_router.post("", status_code=201, summary="Run a pipeline")
async def create_run(
    request: Request, response: Response, namespace: str, body: RunRequest
) -> dict[str, Any]:
    """Check the arguments against the pipeline's parameters (422 naming each bad one; nothing is stored),
    record the run and start it in the background. Poll `GET .../runs/{namespace}/{id}` for its state."""
    run = await run_in_threadpool(_create_run, request, namespace, body)
    response.headers["Location"] = f"{request.scope.get('root_path', '')}/api/v1/runs/{namespace}/{run.id}"
    return await run_in_threadpool(_document, request, run)


@runs_router.get("", summary="List pipeline runs")
def list_runs(
    request: Request,
    namespace: str,
    experiment: str | None = Query(None, description="Only the runs of this pipeline experiment."),
    state: list[RunState] | None = Query(None, description="Only these states (repeatable)."),
    limit: Annotated[
        int, Query(ge=1, le=MAX_PAGE, description="At most this many items."), WHOLE_NUMBER
    ] = 100,
    cursor: str | None = Query(None, description="nextCursor of the previous page."),
) -> dict[str, Any]:
    """Oldest first."""
    store = _store(request)
    start = decode_cursor(cursor)
    runs = store.list_runs(namespace, states=state or None)
    if experiment is not None:
        controls = _runs(request).controls()
        runs = [r for r in runs if r.id in controls and controls[r.id].experiment == experiment]
    page = runs[start : start + limit]
    more = start + limit < len(runs)
    versions = _versions(store, namespace)
    return {
        "runs": [_document(request, r, versions=versions) for r in page],
        "nextCursor": encode_cursor(start + limit) if more else "",
    }


@runs_router.get("/{run_id}", summary="Get a run with its task graph")
def get_run(request: Request, namespace: str, run_id: str) -> dict[str, Any]:
    """The run, each task's state, attempts, times, outputs and artifacts, and the edges between tasks."""
    return _document(request, _run_or_404(_store(request), namespace, run_id), with_tasks=True)


@runs_router.post("/{run_id}/cancel", summary="Cancel a run")
def cancel_run(request: Request, namespace: str, run_id: str) -> dict[str, Any]:
    """Stop the run's tasks; it ends Cancelled and is not resumed. 409 when it has finished already."""
    store = _store(request)
    run = _run_or_404(store, namespace, run_id)
    outcome = _runs(request).cancel(store, run.id)
    if outcome == "finished":
        raise ApiProblem(
            409, "Run finished", f"run {run.id} has finished ({run.state.value}); nothing to cancel"
        )
    if outcome == "elsewhere":
        lease = store.get_run_lease(run.id)
        raise ApiProblem(
            409,
            "Driven elsewhere",
            f"run {run.id} is driven by {lease.holder if lease else 'another server'}; cancel it there",
        )
    if outcome == "cancelling":
        raise ApiProblem(409, "Still cancelling", f"run {run.id} is still stopping its tasks; ask again")
    return _document(request, store.get_run(run.id), with_tasks=True)


_LOG_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The task's output", "content": {"text/plain": {"schema": {"type": "string"}}}}
}


def _task_or_404(store: Store, run: PipelineRun, name: str) -> Task:
    for task in store.list_tasks(run.id):
        if task.name == name:
            return task
    raise NotFoundError(f"run {run.id} has no task {name!r}")


def _log_path(task: Task) -> Path | None:
    if task.logs_uri and task.logs_uri.startswith("file://"):
        return Path(task.logs_uri[len("file://") :])
    return None


@runs_router.get(
    "/{run_id}/tasks/{task}/logs",
    summary="A task's output",
    response_class=PlainTextResponse,
    responses=_LOG_RESPONSES,
)
async def task_logs(
    request: Request,
    namespace: str,
    run_id: str,
    task: str,
    follow: bool = Query(False, description="Keep streaming until the task ends."),
) -> Any:
    """The task's output (every attempt); with `follow=true` it streams until the task ends."""
    store = _store(request)
    run = await run_in_threadpool(_run_or_404, store, namespace, run_id)
    found = await run_in_threadpool(_task_or_404, store, run, task)
    path = _log_path(found)
    if path is None and not follow:
        raise ApiProblem(404, "No log yet", f"task {found.name} has no log yet (state {found.state.value})")
    if not follow:
        assert path is not None
        return PlainTextResponse(await run_in_threadpool(FileFollower(path).read_all_new))
    return StreamingResponse(_follow(store, run.id, found.name, path), media_type="text/plain; charset=utf-8")


async def _follow(store: Store, run_id: int, name: str, path: Path | None) -> AsyncIterator[str]:
    follower = FileFollower(path) if path is not None else None
    while True:
        run = await run_in_threadpool(store.get_run, run_id)
        task = await run_in_threadpool(_task_or_404, store, run, name)
        if follower is None and _log_path(task) is not None:
            follower = FileFollower(_log_path(task))  # type: ignore[arg-type]
        if follower is not None:
            text = await run_in_threadpool(follower.read_all_new)
            if text:
                yield text
        if task.state.is_finished or run.state.is_finished:
            if follower is not None:
                rest = await run_in_threadpool(follower.read_all_new)
                if rest:
                    yield rest
            return
        await asyncio.sleep(FOLLOW_POLL_SECONDS)
