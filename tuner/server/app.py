"""`create_app(settings)`: the FastAPI app of `tuner server`.

At start-up it opens the store and resumes the submitted experiments left unfinished (after a restart or a
crash); at shutdown it stops their threads cleanly, so they resume at the next start. Routes live in
`tuner.server.routers`; errors are problem+json (`tuner.server.problems`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from tuner._version import __version__
from tuner.config import Settings
from tuner.dashboard import install as install_dashboard
from tuner.server import access
from tuner.server.drivers import Drivers
from tuner.server.metrics import ServerMetrics
from tuner.server.pipeline_experiments import PipelineExperiments
from tuner.server.problems import PROBLEM_RESPONSES, ApiProblem, install_handlers
from tuner.server.routers import artifacts, experiments, models, session, trials
from tuner.server.routers import pipelines as pipeline_routes
from tuner.server.run_drivers import RunDrivers
from tuner.store import open_store

logger = logging.getLogger(__name__)

_METRICS_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Prometheus text exposition format",
        "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
    }
}


def create_app(
    settings: Settings,
    *,
    root_path: str = "",
    poll_interval: float = 0.2,
    auth: access.Access | None = None,
) -> FastAPI:
    """The server for `settings` (its store and data folder); `root_path` is the URL prefix a reverse
    proxy serves it under (it strips the prefix; links and the OpenAPI carry it). With `auth`, every route
    is checked by `tuner.server.access` (tokens, namespaces, roles); without, everything is open."""
    drivers = Drivers(settings, poll_interval=poll_interval)
    run_drivers = RunDrivers(settings)
    metrics = ServerMetrics(drivers, run_drivers)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = open_store(settings.store_url)
        app.state.store = store
        resumed = await run_in_threadpool(drivers.resume_all, store)
        if resumed:
            logger.warning("resumed %d unfinished experiment(s): %s", len(resumed), ", ".join(resumed))
        runs = await run_in_threadpool(run_drivers.resume_all, store)
        if runs:
            logger.warning("resumed %d unfinished pipeline run(s): %s", len(runs), ", ".join(map(str, runs)))
        try:
            yield
        finally:
            await run_in_threadpool(run_drivers.shutdown)
            await run_in_threadpool(drivers.shutdown)
            store.close()

    app = FastAPI(
        title="tuner server",
        version=__version__,
        root_path=root_path,
        lifespan=lifespan,
        docs_url="/api/v1/docs",
        openapi_url="/api/v1/openapi.json",
        dependencies=[Depends(access.authorize)],
    )
    app.state.settings = settings
    app.state.drivers = drivers
    app.state.metrics = metrics
    app.state.run_drivers = run_drivers
    app.state.pipeline_experiments = PipelineExperiments(settings)
    install_handlers(app)
    app.middleware("http")(metrics.middleware)
    app.include_router(experiments.router)
    app.include_router(trials.router)
    app.include_router(models.router)
    app.include_router(session.router)
    app.include_router(pipeline_routes.pipelines_router)
    app.include_router(pipeline_routes.experiments_router)
    app.include_router(pipeline_routes.runs_router)
    app.include_router(artifacts.artifacts_router)
    app.include_router(artifacts.lineage_router)

    @app.get("/healthz", tags=["health"], summary="The process answers")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], summary="The store answers", responses={503: PROBLEM_RESPONSES[500]})
    def readyz(request: Request) -> Any:
        try:
            request.app.state.store.list_experiments(namespace="", name_prefix="readyz-probe")
        except Exception as exc:
            raise ApiProblem(
                503, "Not ready", f"the store does not answer: {type(exc).__name__}: {exc}"
            ) from exc
        return {"status": "ready", "running_experiments": len(drivers.running())}

    @app.get(
        "/metrics",
        tags=["health"],
        summary="Prometheus metrics",
        response_class=Response,
        responses=_METRICS_RESPONSE,
    )
    def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    install_dashboard(app)  # the web dashboard at / (tuner.dashboard)
    access.install(app, auth)  # last: it documents and checks every route added above
    return app
