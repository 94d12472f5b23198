"""`/api/v1/experiments`: submit, list, get, stop and delete experiments (Katib-shaped documents)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from tuner.errors import Problem, SpecError
from tuner.server.access import document_namespace, require, visible
from tuner.server.counts import count_changes
from tuner.server.deps import drivers_of, experiment_or_404, store_of
from tuner.server.drivers import ConflictError
from tuner.server.paging import WHOLE_NUMBER, decode_cursor, encode_cursor
from tuner.server.problems import PROBLEM_RESPONSES, ApiProblem
from tuner.server.suggestion_state import suggestion_document
from tuner.spec.documents import parse_documents
from tuner.states import ExperimentState
from tuner.views import experiment_document, list_document

router = APIRouter(prefix="/api/v1/experiments", tags=["experiments"], responses=PROBLEM_RESPONSES)

MAX_PAGE = 500

# The shape the OpenAPI promises; the spec checks much more (tuner.spec), answered 422 field by field.
_EXPERIMENT_SCHEMA = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"type": "string", "enum": ["kubeflow.org/v1beta1", "tuner.dev/v1beta1"]},
        "kind": {"type": "string", "enum": ["Experiment"]},
        "metadata": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63},
                "namespace": {
                    "type": "string",
                    "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
                    "maxLength": 63,
                },
            },
        },
        "spec": {"type": "object"},
    },
}

_SUBMIT_BODY = {
    "requestBody": {
        "required": True,
        "description": "A Katib v1beta1 Experiment (kubeflow.org/v1beta1 or tuner.dev/v1beta1), YAML or JSON.",
        "content": {
            "application/json": {"schema": _EXPERIMENT_SCHEMA},
            "application/yaml": {"schema": {"type": "string"}},
        },
    }
}


def _document_of(body: bytes, content_type: str) -> dict[str, Any]:
    """The one document of a request body (JSON or YAML), or a 422 problem."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(
            [Problem("", f"the body is not UTF-8 text (invalid byte at offset {exc.start})")], "<request>"
        ) from exc
    if "json" in content_type:
        try:
            documents: list[Any] = [json.loads(text)]
        except json.JSONDecodeError as exc:
            raise SpecError(
                [Problem("", f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")], "<request>"
            ) from exc
    else:
        documents, problems = parse_documents(text)
        if problems:
            raise SpecError(problems, "<request>")
    if len(documents) != 1:
        found = f"{len(documents)} documents" if documents else "no document"
        raise SpecError([Problem("", f"expected one Experiment document, found {found}")], "<request>")
    document = documents[0]
    if not isinstance(document, dict):
        raise SpecError(
            [
                Problem(
                    "", "expected an Experiment document (a mapping with apiVersion, kind, metadata and spec)"
                )
            ],
            "<request>",
        )
    return document


@router.post("", status_code=201, summary="Submit an experiment", openapi_extra=_SUBMIT_BODY)
async def submit(request: Request, response: Response) -> dict[str, Any]:
    """Check the experiment exactly as `tuner run` checks a file, store it and start its controller.

    Invalid experiments are refused with 422 and every problem by field path; nothing is stored."""
    document = _document_of(await request.body(), request.headers.get("content-type", ""))
    require(request, document_namespace(document))  # the namespace as the spec reads it
    store, drivers = store_of(request), drivers_of(request)
    try:
        record = await run_in_threadpool(drivers.admit, store, document)
    except ConflictError as exc:
        raise ApiProblem(409, "Experiment exists", str(exc), [Problem("metadata.name", str(exc))]) from exc
    response.headers["Location"] = (
        f"{request.scope.get('root_path', '')}/api/v1/experiments/{record.namespace}/{record.name}"
    )
    return experiment_document(record)


@router.get("", summary="List experiments")
def list_experiments(
    request: Request,
    namespace: str | None = Query(None, description="Only this namespace (default: every namespace)."),
    state: list[ExperimentState] | None = Query(None, description="Only these states (repeatable)."),
    name_prefix: str | None = Query(None, alias="namePrefix", description="Only names starting so."),
    limit: Annotated[
        int, Query(ge=1, le=MAX_PAGE, description="At most this many items."), WHOLE_NUMBER
    ] = 100,
    cursor: str | None = Query(None, description="metadata.continue of the previous page."),
) -> dict[str, Any]:
    """Oldest first; `metadata.continue` is the cursor of the next page (empty on the last). Only the
    namespaces the caller's token may read are listed."""
    start = decode_cursor(cursor)
    records = store_of(request).list_experiments(
        namespace, states=state or None, name_prefix=name_prefix or None
    )
    records = visible(request, records)
    page = records[start : start + limit]
    document = list_document(experiment_document(r) for r in page)
    more = start + limit < len(records)
    document["metadata"] = {"continue": encode_cursor(start + limit) if more else "", "resourceVersion": ""}
    return document


@router.get("/{namespace}/{name}", summary="Get an experiment")
def get_experiment(request: Request, namespace: str, name: str) -> dict[str, Any]:
    """The Experiment with its Katib-shaped status."""
    return experiment_document(experiment_or_404(store_of(request), namespace, name))


_PATCH_BODY = {
    "requestBody": {
        "required": True,
        "description": "A JSON merge patch of the counts: "
        '{"spec": {"maxTrialCount": 20, "parallelTrialCount": 4, "maxFailedTrialCount": 3}}',
        "content": {
            "application/merge-patch+json": {"schema": {"type": "object"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


@router.patch("/{namespace}/{name}", summary="Change an experiment's counts", openapi_extra=_PATCH_BODY)
async def patch_experiment(request: Request, namespace: str, name: str) -> dict[str, Any]:
    """Change maxTrialCount, parallelTrialCount or maxFailedTrialCount (the fields Katib lets a user edit);
    the running driver takes them up within a second. Any other field is refused with 422 naming it. A
    finished experiment whose maxTrialCount is raised restarts when its resumePolicy is LongRunning or
    FromVolume and it ended by reaching maxTrialCount."""
    body = await request.body()
    try:
        patch = json.loads(body.decode("utf-8") or "null")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SpecError([Problem("", f"the body is not JSON: {exc}")], "<request>") from exc
    counts = count_changes(patch)
    store, drivers = store_of(request), drivers_of(request)
    record = await run_in_threadpool(drivers.change_counts, store, namespace, name, counts)
    return experiment_document(await run_in_threadpool(store.get_experiment_by_id, record.id))


@router.get("/{namespace}/{name}/suggestion", summary="The experiment's suggestion state")
def get_suggestion(request: Request, namespace: str, name: str) -> dict[str, Any]:
    """Shaped like Katib's Suggestion: the algorithm and its settings, the number of assignments requested
    so far (`spec.requests`), and its state (Created, Running, Succeeded, Exhausted)."""
    store, drivers = store_of(request), drivers_of(request)
    record = experiment_or_404(store, namespace, name)
    driver = drivers.get(namespace, name)
    return suggestion_document(store, record, driver is not None and driver.alive)


@router.post("/{namespace}/{name}/stop", summary="Stop an experiment")
def stop_experiment(request: Request, namespace: str, name: str) -> dict[str, Any]:
    """Stop driving the experiment: its running trials are stopped; it is not resumed when the server
    restarts. 409 when this server is not driving it."""
    store, drivers = store_of(request), drivers_of(request)
    record = experiment_or_404(store, namespace, name)
    outcome = drivers.stop(namespace, name)
    if outcome == "stopping":
        raise ApiProblem(
            409, "Still stopping", f"experiment {namespace}/{name} is still stopping its trials; ask again"
        )
    if outcome == "not running":
        lease = store.get_lease(record.id)
        where = f"it is driven by {lease.holder}, not this server" if lease else "it is not running"
        raise ApiProblem(
            409,
            "Not running here",
            f"experiment {namespace}/{name} cannot be stopped: {where} (state {record.state.value})",
        )
    return experiment_document(store.get_experiment_by_id(record.id))


@router.post("/{namespace}/{name}/resume", summary="Resume a stopped experiment")
def resume_experiment(request: Request, namespace: str, name: str) -> dict[str, Any]:
    """Drive a stopped experiment again, where it stopped. 409 when it is running or finished, or was not
    submitted to this server (continue those with `tuner run FILE`)."""
    store, drivers = store_of(request), drivers_of(request)
    record = experiment_or_404(store, namespace, name)
    outcome = drivers.resume(store, namespace, name)
    if outcome != "resumed":
        why = {
            "running": "it is running here already",
            "finished": f"it has finished ({record.state.value})",
            "not submitted": "it was not submitted to this server; continue it with `tuner run FILE`",
        }[outcome]
        raise ApiProblem(409, "Cannot resume", f"experiment {namespace}/{name} cannot be resumed: {why}")
    return experiment_document(store.get_experiment_by_id(record.id))


@router.delete("/{namespace}/{name}", status_code=204, summary="Delete an experiment")
def delete_experiment(request: Request, namespace: str, name: str) -> Response:
    """Delete the experiment with its trials, metrics, logs and files (stopping it first if this server
    drives it). 409 when another process drives it."""
    store, drivers = store_of(request), drivers_of(request)
    record = experiment_or_404(store, namespace, name)
    if drivers.stop(namespace, name, keep_stopped=False) == "stopping":
        raise ApiProblem(409, "Still stopping", f"experiment {namespace}/{name} is still stopping; ask again")
    lease = store.get_lease(record.id)
    if lease is not None:
        raise ApiProblem(
            409,
            "Driven elsewhere",
            f"experiment {namespace}/{name} is driven by {lease.holder}; stop it there first",
        )
    store.delete_experiment(record.id)
    drivers.forget(namespace, name)
    return Response(status_code=204)
