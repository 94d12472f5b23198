"""`/dashboard-api/...`: the JSON the dashboard's pages fetch (figures, the trial table, summaries).

Figures are drawn by `tuner.visualization` from the experiment cached in `ExperimentCache` and kept as
JSON bytes per experiment version, kind and options, so a page reload or a second viewer costs nothing.
These routes are the dashboard's own (not in the published OpenAPI); access rules are `tuner.server.access`.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from tuner.dashboard.cache import ExperimentCache
from tuner.dashboard.summaries import experiment_row
from tuner.dashboard.table import (
    MAX_PAGE_SIZE,
    TableQueryError,
    best_trial,
    columns,
    row_document,
    select,
    to_csv,
)
from tuner.dashboard.warmup import import_figures
from tuner.errors import NotFoundError, Problem
from tuner.server.access import visible
from tuner.server.problems import ApiProblem
from tuner.store import Store
from tuner.visualization import FIGURE_KINDS, FigureOptionError, figure_json, parse_options

router = APIRouter(prefix="/dashboard-api", include_in_schema=False)


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def cache_of(request: Request) -> ExperimentCache:
    cache = getattr(request.app.state, "dashboard_cache", None)
    if cache is None:
        cache = request.app.state.dashboard_cache = ExperimentCache()
    return cache


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, allow_nan=False), status_code=status, media_type="application/json")


def _bad_query(exc: TableQueryError | FigureOptionError, field: str) -> ApiProblem:
    return ApiProblem(422, "Invalid query", str(exc), [Problem(field, str(exc))])


@router.get("/experiments")
def experiments(
    request: Request,
    namespace: str | None = Query(None),
    q: str = Query(""),
    state: list[str] | None = Query(None),
) -> Response:
    """Every experiment the caller may read, as the list page shows them (name filter, states)."""
    records = visible(request, store_of(request).list_experiments(namespace))
    wanted = {s.lower() for s in state or []}
    rows = [
        experiment_row(r)
        for r in records
        if (q.lower() in f"{r.namespace}/{r.name}".lower())
        and (not wanted or r.state.value.lower() in wanted)
    ]
    return _json({"items": rows})


@router.get("/experiments/{namespace}/{name}/summary")
def summary(request: Request, namespace: str, name: str) -> Response:
    """State, counts and version of an experiment: what the live page polls (no trial is read)."""
    store = store_of(request)
    record = store.get_experiment(name, namespace)
    counts = store.count_trials(record.id)
    row = experiment_row(record)
    row["counts"] = {state.value: n for state, n in counts.items()}
    row["trialCount"] = sum(counts.values())
    row["version"] = f"{record.updated_at.isoformat()}|{sorted(row['counts'].items())}"
    return _json(row)


@router.get("/experiments/{namespace}/{name}/trials")
async def trials(
    request: Request,
    namespace: str,
    name: str,
    state: list[str] | None = Query(None),
    filter: str = Query("", description="conditions NAME OP VALUE, comma-separated"),
    sort: str = Query("number"),
    order: str = Query("asc", pattern="^(asc|desc)$"),
    page: int = Query(1, ge=1),
    size: int = Query(50, ge=1, le=MAX_PAGE_SIZE),
) -> Response:
    """One page of the filtered, sorted trial table, its columns and the best trial."""
    store = store_of(request)

    def build() -> dict[str, Any]:
        record = store.get_experiment(name, namespace)
        _, data = cache_of(request).get(store, record)
        try:
            rows = select(data, state or (), filter, sort, order == "desc")
        except TableQueryError as exc:
            raise _bad_query(exc, exc.field) from exc
        params, metrics = columns(data)
        best = best_trial(data)
        start = (page - 1) * size
        return {
            "state": record.state.value,
            "total": len(data.trials),
            "matched": len(rows),
            "page": page,
            "size": size,
            "params": params,
            "metrics": metrics,
            "objective": {"name": data.objective.name, "goal": data.objective.goal},
            "best": row_document(best, params, metrics) if best else None,
            "rows": [row_document(t, params, metrics) for t in rows[start : start + size]],
        }

    return _json(await run_in_threadpool(build))


@router.get("/experiments/{namespace}/{name}/trials.csv")
async def trials_csv(
    request: Request,
    namespace: str,
    name: str,
    state: list[str] | None = Query(None),
    filter: str = Query(""),
    sort: str = Query("number"),
    order: str = Query("asc", pattern="^(asc|desc)$"),
) -> Response:
    """The whole filtered, sorted table as CSV (what the page shows, every page)."""
    store = store_of(request)

    def build() -> str:
        record = store.get_experiment(name, namespace)
        _, data = cache_of(request).get(store, record)
        try:
            rows = select(data, state or (), filter, sort, order == "desc")
        except TableQueryError as exc:
            raise _bad_query(exc, exc.field) from exc
        return to_csv(data, rows)

    text = await run_in_threadpool(build)
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{namespace}-{name}-trials.csv"'},
    )


@router.get("/experiments/{namespace}/{name}/figures/{kind}")
async def figure(request: Request, namespace: str, name: str, kind: str) -> Response:
    """The plotly figure `kind` as JSON (options as query parameters, see tuner.visualization); when the
    default options cannot draw it for this experiment (too few trials, ...), `{"unavailable": why}`."""
    if kind not in FIGURE_KINDS:
        raise ApiProblem(404, "Not found", f"no figure {kind!r}; figures: {', '.join(FIGURE_KINDS)}")
    store = store_of(request)
    raw = dict(request.query_params)

    def build() -> bytes:
        import_figures()  # once per process, never concurrently (see tuner.dashboard.warmup)
        record = store.get_experiment(name, namespace)
        cache = cache_of(request)
        version, data = cache.get(store, record)
        key = (version, kind, tuple(sorted(raw.items())))
        body = cache.figures.get(key)
        if body is None:
            try:
                options = parse_options(kind, raw)
            except FigureOptionError as exc:  # options the caller chose: a bad request
                raise _bad_query(exc, kind) from exc
            try:
                body = json.dumps(figure_json(kind, data, **options)).encode()
            except FigureOptionError as exc:  # this experiment cannot have it (yet): say why
                body = json.dumps({"unavailable": str(exc)}).encode()
            cache.figures.put(key, body)
        return body

    return Response(await run_in_threadpool(build), media_type="application/json")


@router.get("/compare")
async def compare(request: Request, e: list[str] = Query(default_factory=list)) -> Response:
    """The best-so-far curves of two or more experiments (`?e=NAMESPACE/NAME`, repeated) in one figure, and
    a row per experiment (state, trials, best value)."""
    store = store_of(request)

    def build() -> dict[str, Any]:
        traces: list[dict[str, Any]] = []
        rows: list[dict[str, Any]] = []
        missing: list[str] = []
        for ref in e:
            namespace, _, name = ref.partition("/")
            try:
                record = store.get_experiment(name, namespace)
            except NotFoundError:
                missing.append(ref)
                continue
            rows.append(experiment_row(record))
            _, data = cache_of(request).get(store, record)
            import_figures()
            drawn = figure_json("history", data)
            for trace in drawn.get("data", []):
                if str(trace.get("mode", "")).startswith("lines"):  # the best-so-far line
                    trace.update(name=ref, legendgroup=ref, showlegend=True)
                    trace.pop("line", None)
                    traces.append(trace)
        layout = {
            "title": {"text": "Best value so far"},
            "xaxis": {"title": {"text": "trial"}},
            "yaxis": {"title": {"text": rows[0]["objective"] if rows else "value"}},
        }
        return {"rows": rows, "missing": missing, "figure": {"data": traces, "layout": layout}}

    return _json(await run_in_threadpool(build))
