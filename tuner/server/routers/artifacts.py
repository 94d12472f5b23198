"""`/api/v1/artifacts/{namespace}/{id}`: an artifact's metadata and its bytes (HTTP range requests), and
`/api/v1/lineage/{namespace}/{kind}/{id}`: what any record was made from (upstream) or what was made from
it (downstream), from the store's lineage events.

An artifact is seen in the namespaces of the runs and experiments whose tasks and trials read or wrote
it (and of the models holding it); elsewhere it is 404.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, BinaryIO, cast

import fsspec
from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from tuner.errors import NotFoundError
from tuner.http_problems import problem_response
from tuner.server.byte_ranges import RangeNotSatisfiable, parse_range, read_span
from tuner.server.ownership import belongs
from tuner.server.paging import WHOLE_NUMBER
from tuner.server.problems import PROBLEM_RESPONSES, ApiProblem, _described
from tuner.store import Store
from tuner.store.records import Artifact, LineageDirection, LineageGraph, NodeKind, NodeRef

artifacts_router = APIRouter(
    prefix="/api/v1/artifacts/{namespace}", tags=["artifacts"], responses=PROBLEM_RESPONSES
)
lineage_router = APIRouter(
    prefix="/api/v1/lineage/{namespace}", tags=["lineage"], responses=PROBLEM_RESPONSES
)

ID = PathParam(ge=1, le=2**63 - 1, description="The artifact's id.")
MANIFEST = ".tuner-tree.json"  # what tuner.artifacts writes in a stored folder


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _artifact_in(store: Store, namespace: str, artifact_id: int) -> Artifact:
    artifact = store.get_artifact(artifact_id)
    if not belongs(store, NodeKind.ARTIFACT, artifact_id, namespace):
        raise NotFoundError(f"no artifact {artifact_id} in namespace {namespace!r}")
    return artifact


def _files(uri: str) -> list[dict[str, Any]] | None:
    """The files of a stored folder (None for a single file)."""
    fs, path = fsspec.core.url_to_fs(uri)
    manifest = f"{path.rstrip('/')}/{MANIFEST}"
    if fs.isfile(path) or not fs.exists(manifest):
        return None
    return cast(list[dict[str, Any]], json.loads(fs.cat_file(manifest))["files"])


def _events(store: Store, artifact_id: int) -> list[dict[str, Any]]:
    out = []
    for event in store.list_events(artifact_id=artifact_id):
        entry: dict[str, Any] = {"direction": event.direction.value, "port": event.port}
        if event.task_id is not None:
            task = store.get_task(event.task_id)
            entry.update(kind="task", id=str(task.id), name=task.name, run=str(task.run_id))
        if event.trial_id is not None:
            trial = store.get_trial(event.trial_id)
            entry.update(kind="trial", id=str(trial.id), name=trial.name)
        out.append(entry)
    return out


@artifacts_router.get("/{artifact_id}", summary="An artifact's metadata")
def get_artifact(request: Request, namespace: str, artifact_id: int = ID) -> dict[str, Any]:
    """URI, type, digest, size, metadata, the tasks and trials that wrote and read it, and for a stored
    folder its files."""
    store = _store(request)
    artifact = _artifact_in(store, namespace, artifact_id)
    try:
        files = _files(artifact.uri)
    except (OSError, ValueError):
        files = None
    return {
        "id": str(artifact.id),
        "uri": artifact.uri,
        "type": artifact.type,
        "name": artifact.name,
        "digest": artifact.digest,
        "size": artifact.size,
        "metadata": artifact.metadata,
        "createdAt": artifact.created_at.isoformat(),
        "events": _events(store, artifact.id),
        "files": files,
    }


_CONTENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The whole artifact",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    },
    206: {
        "description": "The byte range asked for (Content-Range says which)",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    },
    409: _described("The artifact is a folder: pick one of its files with ?path="),
    416: _described("The range lies outside the artifact"),
}


def _open(uri: str, inner: str | None) -> tuple[BinaryIO, int, str]:
    """(handle, size, file name) of the artifact's file."""
    fs, path = fsspec.core.url_to_fs(uri)
    path = path.rstrip("/")
    if inner is not None:
        parts = [p for p in inner.split("/") if p]
        if not parts or any(p in (".", "..") for p in parts) or inner.startswith("/"):
            raise ApiProblem(
                422, "Invalid path", f"path {inner!r} must name a file inside the folder (no '..')"
            )
        path = f"{path}/{'/'.join(parts)}"
    if not fs.isfile(path):
        if inner is None and fs.exists(f"{path}/{MANIFEST}"):
            files = json.loads(fs.cat_file(f"{path}/{MANIFEST}"))["files"]
            names = ", ".join(str(f["path"]) for f in files[:10])
            raise ApiProblem(
                409, "A folder", f"the artifact is a folder of {len(files)} file(s) ({names}); add ?path=FILE"
            )
        raise NotFoundError(f"no stored file at {uri}" + (f" (path {inner!r})" if inner else ""))
    return cast(BinaryIO, fs.open(path, "rb")), int(fs.size(path)), path.rsplit("/", 1)[-1]


@artifacts_router.get(
    "/{artifact_id}/content",
    summary="Download an artifact (range requests supported)",
    response_class=Response,
    responses=_CONTENT_RESPONSES,
)
async def download(
    request: Request,
    namespace: str,
    artifact_id: int = ID,
    path: str | None = Query(None, description="For a stored folder: the file inside it."),
) -> Response:
    """The artifact's bytes. `Range: bytes=FIRST-LAST` (or `FIRST-`, `-LAST_N`) answers 206 with
    Content-Range; a range outside the file answers 416."""
    store = _store(request)
    artifact = await run_in_threadpool(_artifact_in, store, namespace, artifact_id)
    handle, size, name = await run_in_threadpool(_open, artifact.uri, path)
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Disposition": f'attachment; filename="{name}"',
        "ETag": f'"{artifact.digest}"' if path is None else f'"{artifact.digest}:{path}"',
    }
    try:
        span = parse_range(request.headers.get("range"), size)
    except RangeNotSatisfiable as exc:
        handle.close()
        problem = ApiProblem(416, "Range not satisfiable", str(exc))
        response = problem_response(problem)
        response.headers["Content-Range"] = f"bytes */{size}"
        return response
    if span is None:
        headers["Content-Length"] = str(size)
        return StreamingResponse(
            read_span(handle, 0, size), media_type="application/octet-stream", headers=headers
        )
    first, last = span
    headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    headers["Content-Length"] = str(last - first + 1)
    return StreamingResponse(
        read_span(handle, first, last - first + 1),
        status_code=206,
        media_type="application/octet-stream",
        headers=headers,
    )


# --- lineage -----------------------------------------------------------------------------------------------

KINDS = {kind.value: kind for kind in NodeKind} | {"run": NodeKind.PIPELINE_RUN}


def _start(store: Store, namespace: str, kind: str, record: str) -> NodeRef:
    node_kind = KINDS.get(kind)
    if node_kind is None:
        raise ApiProblem(404, "Not found", f"no node kind {kind!r}; kinds: {', '.join(sorted(KINDS))}")
    if node_kind == NodeKind.EXPERIMENT and not record.isdecimal():
        record_id = store.get_experiment(record, namespace).id
    elif record.isdecimal() and len(record) <= 18:
        record_id = int(record)
    else:
        raise NotFoundError(f"no {kind} {record!r}: give its numeric id")
    if not belongs(store, node_kind, record_id, namespace):
        raise NotFoundError(f"no {kind} {record_id} in namespace {namespace!r}")
    return NodeRef(node_kind, record_id)


def _graph_document(graphs: list[LineageGraph]) -> dict[str, Any]:
    nodes: dict[tuple[str, int], dict[str, Any]] = {}
    edges: dict[tuple[str, int, str, int, str], dict[str, Any]] = {}
    for graph in graphs:
        sign = -1 if graph.direction == LineageDirection.UPSTREAM else 1
        for node in graph.nodes:
            key = (node.kind.value, node.id)
            if key not in nodes or abs(nodes[key]["depth"]) > node.depth:
                nodes[key] = {
                    "kind": node.kind.value,
                    "id": str(node.id),
                    "label": node.label,
                    "depth": sign * node.depth,
                }
        for edge in graph.edges:
            ekey = (
                edge.source.kind.value,
                edge.source.id,
                edge.target.kind.value,
                edge.target.id,
                edge.relation,
            )
            edges[ekey] = {
                "source": {"kind": edge.source.kind.value, "id": str(edge.source.id)},
                "target": {"kind": edge.target.kind.value, "id": str(edge.target.id)},
                "relation": edge.relation,
            }
    ordered = sorted(nodes.values(), key=lambda n: (n["depth"], n["kind"], int(n["id"])))
    return {"nodes": ordered, "edges": list(edges.values())}


@lineage_router.get("/{kind}/{record}", summary="Lineage of a record: upstream and/or downstream")
def lineage(
    request: Request,
    namespace: str,
    kind: str,
    record: str,
    direction: str = Query("both", pattern="^(upstream|downstream|both)$", description="Which way to walk."),
    depth: Annotated[
        int, Query(ge=1, le=100, description="How many edges at most from the start."), WHOLE_NUMBER
    ] = 20,
) -> dict[str, Any]:
    """`kind` is experiment (id or name), trial, run (or pipeline_run), task, artifact, model_version,
    revision or deployment; `record` its id. Nodes carry their distance from the start: negative upstream
    (what it was made from), positive downstream (what was made from it)."""
    store = _store(request)
    start = _start(store, namespace, kind, record)
    directions = (
        [LineageDirection.UPSTREAM, LineageDirection.DOWNSTREAM]
        if direction == "both"
        else [LineageDirection(direction)]
    )
    document = _within_namespace(
        store, namespace, _graph_document([store.lineage(start, d, max_depth=depth) for d in directions])
    )
    return {"start": {"kind": start.kind.value, "id": str(start.id)}, "direction": direction, **document}


def _within_namespace(store: Store, namespace: str, document: dict[str, Any]) -> dict[str, Any]:
    """Only the nodes of `namespace` and the edges between them: a lineage walk follows events across
    namespaces (a model registered in one from a run in another), and a caller may see only its own. How many
    nodes were left out is said (`hidden`), never what they are."""

    def visible(node: dict[str, Any]) -> bool:
        try:
            return belongs(store, KINDS[node["kind"]], int(node["id"]), namespace)
        except NotFoundError:  # deleted since the walk
            return False

    keep = {(n["kind"], n["id"]) for n in document["nodes"] if visible(n)}
    nodes = [n for n in document["nodes"] if (n["kind"], n["id"]) in keep]
    edges = [
        e
        for e in document["edges"]
        if (e["source"]["kind"], e["source"]["id"]) in keep
        and (e["target"]["kind"], e["target"]["id"]) in keep
    ]
    return {"nodes": nodes, "edges": edges, "hidden": len(document["nodes"]) - len(nodes)}
