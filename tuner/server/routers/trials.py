"""`/api/v1/experiments/{namespace}/{name}/trials`: trials, their logs and metric series."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from controllers.collectors.follow import FileFollower
from tuner.server.deps import experiment_or_404, store_of, trial_or_404
from tuner.server.paging import WHOLE_NUMBER, decode_cursor, encode_cursor
from tuner.server.problems import PROBLEM_RESPONSES, ApiProblem
from tuner.states import TrialState
from tuner.store import Store
from tuner.store.records import Observation
from tuner.views import list_document, trial_documents

router = APIRouter(
    prefix="/api/v1/experiments/{namespace}/{name}/trials", tags=["trials"], responses=PROBLEM_RESPONSES
)

FOLLOW_POLL_SECONDS = 0.3


@router.get("", summary="List an experiment's trials")
def list_trials(
    request: Request,
    namespace: str,
    name: str,
    state: list[TrialState] | None = Query(None, description="Only these states (repeatable)."),
    limit: Annotated[int, Query(ge=1, le=500, description="At most this many items."), WHOLE_NUMBER] = 100,
    cursor: str | None = Query(None, description="metadata.continue of the previous page."),
) -> dict[str, Any]:
    """Trials by number, as Katib's Trial objects; `metadata.continue` is the next page's cursor."""
    store = store_of(request)
    record = experiment_or_404(store, namespace, name)
    start = decode_cursor(cursor)
    rows = store.compare_trials(record.id, states=state or None, limit=limit + 1, offset=start)
    more = len(rows) > limit
    document = list_document(trial_documents(store, record, rows=rows[:limit]))
    document["metadata"] = {"continue": encode_cursor(start + limit) if more else "", "resourceVersion": ""}
    return document


@router.get("/{trial}", summary="Get a trial")
def get_trial(request: Request, namespace: str, name: str, trial: str) -> dict[str, Any]:
    store = store_of(request)
    record = experiment_or_404(store, namespace, name)
    return trial_documents(store, record, [trial_or_404(store, record, trial)])[0]


@router.get(
    "/{trial}/metrics",
    summary="A trial's metric series",
)
def metric_series(
    request: Request,
    namespace: str,
    name: str,
    trial: str,
    metric: list[str] | None = Query(None, description="Only these metrics (default: every reported one)."),
) -> dict[str, Any]:
    """Every value the trial reported, per metric, in order: step (null when none), value (null for
    NaN), timestamp (seconds since the epoch)."""
    store = store_of(request)
    record = experiment_or_404(store, namespace, name)
    found = trial_or_404(store, record, trial)
    names = metric or sorted(store.metric_summaries(found.id))
    series = []
    for metric_name in names:
        points = store.metric_series(found.id, metric_name)
        series.append(
            {
                "name": metric_name,
                "points": [
                    {
                        "step": p.step,
                        "value": None if math.isnan(p.value) else p.value,
                        "timestamp": p.timestamp,
                    }
                    for p in points
                ],
            }
        )
    return {"trial": found.name, "metrics": series}


_LOG_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The trial's output", "content": {"text/plain": {"schema": {"type": "string"}}}}
}


@router.get(
    "/{trial}/logs", summary="A trial's output", response_class=PlainTextResponse, responses=_LOG_RESPONSES
)
async def trial_logs(
    request: Request,
    namespace: str,
    name: str,
    trial: str,
    follow: bool = Query(False, description="Keep streaming until the trial ends."),
) -> Any:
    """stdout and stderr of every attempt, as plain text; with `follow=true` the response streams what
    the trial writes until it ends."""
    store = store_of(request)
    record = await run_in_threadpool(experiment_or_404, store, namespace, name)
    found = await run_in_threadpool(trial_or_404, store, record, trial)
    path = Path(found.runtime.log_path) if found.runtime and found.runtime.log_path else None
    if path is None and not follow:
        raise ApiProblem(404, "No log yet", f"trial {found.name} has no log yet (state {found.state.value})")
    if not follow:
        assert path is not None
        return PlainTextResponse(await run_in_threadpool(FileFollower(path).read_all_new))
    return StreamingResponse(_follow(store, found.id, path), media_type="text/plain; charset=utf-8")


async def _follow(store: Store, trial_id: int, path: Path | None) -> AsyncIterator[str]:
    follower = FileFollower(path) if path is not None else None
    while True:
        trial = await run_in_threadpool(store.get_trial, trial_id)
        if follower is None and trial.runtime and trial.runtime.log_path:
            follower = FileFollower(Path(trial.runtime.log_path))
        if follower is not None:
            text = await run_in_threadpool(follower.read_all_new)
            if text:
                yield text
        if trial.state.is_finished:
            if follower is not None:
                rest = await run_in_threadpool(follower.read_all_new)
                if rest:
                    yield rest
            return
        await asyncio.sleep(FOLLOW_POLL_SECONDS)


class MetricReport(BaseModel):
    """Values one trial reports (Katib's Push collector; what `tuner.report` sends with TUNER_SERVER set)."""

    metrics: dict[str, float] = Field(..., min_length=1, description="Metric name -> value.")
    step: int | None = Field(None, ge=0, description="The trial's own step (epoch); default: report count.")
    timestamp: float | None = Field(None, description="Seconds since the epoch; default: the time received.")


@router.post("/{trial}/metrics", summary="Report metric values of a trial (push)", status_code=202)
def report_metrics(
    request: Request, namespace: str, name: str, trial: str, report: MetricReport
) -> dict[str, Any]:
    """Append the values to the trial's series; the controller driving the experiment reads them from the
    store (cluster trials push here: their pods' logs may not be readable). A finished trial takes no more."""
    store = store_of(request)
    record = experiment_or_404(store, namespace, name)
    found = trial_or_404(store, record, trial)
    if found.state.is_finished:
        raise ApiProblem(
            409,
            "Trial finished",
            f"trial {found.name} is {found.state.value}: it takes no more metric values",
        )
    bad = [n for n, v in report.metrics.items() if not math.isfinite(v)]
    if bad:
        raise ApiProblem(422, "Invalid metric value", f"metrics.{bad[0]}: must be a finite number")
    store.log_metrics(
        [Observation(found.id, n, v, report.step, report.timestamp) for n, v in report.metrics.items()]
    )
    return {"trial": found.name, "accepted": sorted(report.metrics)}
