"""The dashboard's HTML pages (server-rendered with jinja2) and its static files.

Pages render what is cheap from stored records (lists, a trial's parameters and decisions); what grows with
the number of trials (the trial table, the figures) is fetched by the page's script from `/dashboard-api`
and from the REST API, page by page and figure by figure.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from tuner.dashboard.api import cache_of
from tuner.dashboard.assets import CACHE_FOREVER, render, static_file
from tuner.dashboard.previews import history_preview
from tuner.dashboard.submit import FieldError, field_errors, parse_experiment, text_errors
from tuner.dashboard.summaries import RUNNING_STATES, experiment_row
from tuner.dashboard.warmup import warm_up
from tuner.errors import NotFoundError, Problem, SpecError
from tuner.server.access import document_namespace, readable_namespaces, require, visible
from tuner.server.drivers import ConflictError, Drivers
from tuner.store import Store
from tuner.views import metric_names
from tuner.visualization import FIGURE_KINDS, options_of

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
EXPERIMENT_STATES = ("Created", "Running", "Restarting", "Succeeded", "Failed")

EXAMPLE = """\
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: my-experiment
  namespace: default
spec:
  objective:
    type: minimize
    objectiveMetricName: loss
  algorithm:
    algorithmName: random
  maxTrialCount: 10
  parallelTrialCount: 2
  parameters:
    - name: x
      parameterType: double
      feasibleSpace: {min: "-5", max: "5"}
  trialTemplate:
    primaryContainerName: main
    trialParameters:
      - {name: x, reference: x}
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            containers:
              - name: main
                image: python:3.11
                command: ["python", "-c", "print('loss=' + str(${trialParameters.x} ** 2))"]
"""


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _base(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def _page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    principal = getattr(request.state, "principal", None)
    html = render(
        template,
        base=_base(request),
        user=principal.name if principal is not None else None,
        auth=getattr(request.app.state, "access", None) is not None,
        **context,
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def _not_found(request: Request, message: str) -> HTMLResponse:
    return _page(request, "error.html", status=404, title="Not found", message=message)


@router.get("/dashboard-static/{name}")
def static(name: str) -> Response:
    """The dashboard's CSS/JS and plotly.min.js; kept a year by the browser (URLs carry `?v=`)."""
    path = static_file(name)
    if path is None:
        return Response("no such file\n", status_code=404, media_type="text/plain")
    media = "text/javascript" if name.endswith(".js") else "text/css" if name.endswith(".css") else None
    return FileResponse(path, media_type=media, headers={"Cache-Control": CACHE_FOREVER})


@router.get("/login", response_class=HTMLResponse)
def login(request: Request, next: str = Query("")) -> HTMLResponse:
    """The token form; its script posts the token to /api/v1/login and returns to `next` (a path on this
    server only, never another site)."""
    target = next if next.startswith("/") and not next.startswith("//") else _base(request) + "/"
    return _page(request, "login.html", title="Log in", next=target)


@router.get("/", response_class=HTMLResponse)
def experiments(
    request: Request,
    q: str = Query(""),
    state: str = Query(""),
    page: int = Query(1, ge=1),
    namespace: str | None = Query(None),
) -> HTMLResponse:
    """Every experiment the caller may read: state, best value, progress; filter by text and state."""
    records = visible(request, _store(request).list_experiments(namespace))
    rows = [
        experiment_row(r)
        for r in records
        if q.lower() in f"{r.namespace}/{r.name}".lower() and (not state or r.state.value == state)
    ]
    rows.reverse()  # newest first
    pages = max(1, math.ceil(len(rows) / PAGE_SIZE))
    page = min(page, pages)
    shown = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return _page(
        request,
        "experiments.html",
        title="Experiments",
        rows=shown,
        total=len(rows),
        q=q,
        state=state,
        states=EXPERIMENT_STATES,
        page=page,
        pages=pages,
        live=any(r["state"] in RUNNING_STATES for r in shown),
    )


def _figure_kinds(metrics: list[str], parameters: int) -> list[str]:
    kinds = [
        "history",
        "parallel",
        "slice",
        "contour",
        "importance",
        "edf",
        "intermediate",
        "pareto",
        "timeline",
    ]
    if parameters < 2:
        kinds.remove("contour")
    if len(metrics) < 2:
        kinds.remove("pareto")
    return kinds


@router.get("/experiments/{namespace}/{name}", response_class=HTMLResponse)
def experiment(request: Request, namespace: str, name: str) -> HTMLResponse:
    """Best-trial card, trial table and every figure; the script fills them and follows a running one."""
    try:
        record = _store(request).get_experiment(name, namespace)
    except NotFoundError as exc:
        return _not_found(request, str(exc))
    store, cache = _store(request), cache_of(request)
    row = experiment_row(record)
    counts = store.count_trials(record.id)  # the store's, also for experiments run without status
    row["trials"] = sum(counts.values())
    preview = history_preview(cache, store, record, row["trials"])  # before warm_up replaces cached data
    warm_up(cache, store, record)  # overlaps the browser's parsing of plotly
    spec = record.spec.get("spec") or {}
    parameters = [str(p.get("name")) for p in spec.get("parameters") or [] if isinstance(p, dict)]
    metrics = metric_names(record)
    return _page(
        request,
        "experiment.html",
        title=f"{namespace}/{name}",
        row=row,
        parameters=parameters,
        metrics=metrics,
        figures=_figure_kinds(metrics, len(parameters)),
        previews={"history": Markup(preview)} if preview else {},
        log_axes={kind: [o for o in ("log_x", "log_y") if o in options_of(kind)] for kind in FIGURE_KINDS},
        states=("Created", "Running", "Succeeded", "Failed", "Killed", "EarlyStopped", "MetricsUnavailable"),
    )


@router.get("/experiments/{namespace}/{name}/trials/{trial}", response_class=HTMLResponse)
def trial(request: Request, namespace: str, name: str, trial: str) -> HTMLResponse:
    """A trial: parameters, metric summaries and series, early-stopping decisions, its log."""
    store = _store(request)
    try:
        record = store.get_experiment(name, namespace)
        found = store.get_trial_by_name(record.id, trial)
    except NotFoundError as exc:
        return _not_found(request, str(exc))
    summaries = store.metric_summaries(found.id)
    decisions = store.list_early_stopping_decisions(found.id)
    return _page(
        request,
        "trial.html",
        title=f"{name} / {trial}",
        experiment=experiment_row(record),
        trial=found,
        assignments=found.assignments,
        summaries=sorted(summaries.values(), key=lambda s: s.name),
        decisions=decisions,
        running=found.state.value in ("Created", "Running"),
        has_log=bool(found.runtime and found.runtime.log_path),
    )


@router.get("/compare", response_class=HTMLResponse)
def compare(request: Request, e: list[str] = Query(default_factory=list)) -> HTMLResponse:
    """Two or more experiments side by side (`?e=NAMESPACE/NAME`, repeated); without, a picker."""
    records = visible(request, _store(request).list_experiments(None))
    return _page(
        request,
        "compare.html",
        title="Compare",
        chosen=e,
        choices=[f"{r.namespace}/{r.name}" for r in records],
    )


@router.get("/submit", response_class=HTMLResponse)
def submit_form(request: Request) -> HTMLResponse:
    return _page(request, "submit.html", title="Submit", text=EXAMPLE, errors=[])


def _submit_errors(text: str, request: Request, drivers: Drivers, store: Store) -> list[FieldError] | str:
    """Admit the experiment of `text`: its page path, or the problems to show at their fields."""
    try:
        document = parse_experiment(text)
    except SpecError as exc:
        return text_errors(exc)
    try:
        record = drivers.admit(store, document)
    except SpecError as exc:
        return field_errors(text, exc)
    except ConflictError as exc:
        return field_errors(text, SpecError([Problem("metadata.name", str(exc))]))
    return f"/experiments/{record.namespace}/{record.name}"


@router.post("/submit", response_class=HTMLResponse)
async def submit(request: Request) -> Response:
    """Check and start the posted experiment (form field `experiment`); on problems, the form again with
    each message under the line of its field."""
    form = await request.form()
    text = str(form.get("experiment") or "")
    try:
        document = parse_experiment(text)
    except SpecError:
        document = None
    if document is not None:
        require(request, document_namespace(document))
    drivers: Drivers = request.app.state.drivers
    outcome = await run_in_threadpool(_submit_errors, text, request, drivers, _store(request))
    if isinstance(outcome, str):
        return RedirectResponse(_base(request) + outcome, status_code=303)
    lines = {e.line for e in outcome if e.line}
    # 200: the form again, as a browser shows it (a 4xx would be logged as a failed load by the browser)
    return _page(request, "submit.html", title="Submit", text=text, errors=outcome, error_lines=lines)


@router.get("/pipelines", response_class=HTMLResponse)
def pipelines(request: Request, page: int = Query(1, ge=1)) -> HTMLResponse:
    """Pipeline runs the caller may read, newest first."""
    store = _store(request)
    readable = readable_namespaces(request)
    runs = [r for r in store.list_runs() if readable is None or r.namespace in readable]
    runs.reverse()
    pages = max(1, math.ceil(len(runs) / PAGE_SIZE))
    page = min(page, pages)
    return _page(
        request,
        "pipelines.html",
        title="Pipeline runs",
        runs=runs[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        page=page,
        pages=pages,
    )


@router.get("/pipelines/runs/{run_id}", response_class=HTMLResponse)
def run(request: Request, run_id: str) -> HTMLResponse:
    """A run's DAG (task states, durations, outputs, logs) and lineage; the script reads the REST API."""
    try:
        found = _store(request).get_run(int(run_id)) if run_id.isdecimal() and len(run_id) <= 18 else None
    except NotFoundError:
        found = None
    if found is None:
        return _not_found(request, f"no pipeline run {run_id!r}")
    return _page(request, "run.html", title=f"Run {found.name}", run=found)
