"""The stateless HTTP suggestion service (FastAPI): any replica answers, a restart loses nothing.

Endpoints: ``POST /api/v1/suggest``, ``POST /api/v1/validate``, ``GET /api/v1/algorithms``, ``/healthz``
(the process answers), ``/readyz`` (the registry is loaded; plugin failures listed), ``/metrics``
(Prometheus: requests, latency per algorithm, errors). Bad input gets ``application/problem+json``
(RFC 9457) with every problem and its field path. `create_app` builds the app; ``tuner
suggestion-server`` serves it with uvicorn. The work itself is `suggestions.protocol`'s, shared with
in-process callers.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from suggestions.base import labels_of
from suggestions.protocol import (
    API_VERSION,
    ProblemItem,
    SuggestBody,
    SuggestReply,
    ValidateBody,
    ValidateReply,
    suggest_assignments,
    validate_settings,
)
from suggestions.registry import Registry, UnknownAlgorithmError, default_registry
from suggestions.settings import InvalidSettingsError
from tuner.errors import Problem, SearchExhaustedError, SpecError, SuggestionError
from tuner.http_problems import ApiProblem, problem_response, problem_responses, request_problems

logger = logging.getLogger(__name__)

_METRICS_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Prometheus text exposition format",
        "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
    }
}

# The errors of the API routes, documented as the problem+json bodies they are.
_PROBLEMS = problem_responses(
    {
        400: "The body could not be read",
        422: "Invalid request, unknown algorithm or invalid settings: every problem with its field path",
        500: "The algorithm failed",
    }
)

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class ServiceMetrics:
    """The service's Prometheus metrics, in a registry of their own (one per app)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "tuner_suggestion_requests",
            "Suggestion API requests by endpoint, algorithm and outcome.",
            ["endpoint", "algorithm", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "tuner_suggestion_latency_seconds",
            "Time to answer a suggest request, by algorithm.",
            ["algorithm"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "tuner_suggestion_errors",
            "Requests that failed, by algorithm and kind (invalid, unknown_algorithm, failed).",
            ["algorithm", "kind"],
            registry=self.registry,
        )


def create_app(registry: Registry | None = None) -> FastAPI:
    """The suggestion service. `registry` defaults to the built-ins plus installed plugins."""
    registry = registry or default_registry()
    metrics = ServiceMetrics()
    app = FastAPI(title="tuner suggestion service", version=API_VERSION, docs_url=f"/api/{API_VERSION}/docs")
    app.state.registry = registry
    app.state.metrics = metrics

    @app.exception_handler(ApiProblem)
    async def _api_problem(request: Request, exc: ApiProblem) -> JSONResponse:
        return problem_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid_body(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = request_problems(exc)
        metrics.errors.labels("", "invalid").inc()
        return problem_response(
            ApiProblem(422, "Invalid request", f"{len(problems)} problem(s) in the request", problems)
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
        return problem_response(ApiProblem(exc.status_code, title, str(exc.detail)))

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> dict[str, Any]:
        return {"status": "ready", "algorithms": registry.names(), "plugin_errors": registry.plugin_errors}

    @app.get("/metrics", response_class=Response, responses=_METRICS_RESPONSE)
    def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get(f"/api/{API_VERSION}/algorithms")
    def algorithms() -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for name in registry.names():
            try:
                schema = registry.get(name).settings_schema
            except SuggestionError as exc:
                out.append({"name": name, "error": str(exc)})
                continue
            settings = [
                {"name": s.name, "default": s.default, "required": s.required, "doc": s.doc} for s in schema
            ]
            out.append({"name": name, "settings": settings})
        return out

    @app.post(
        f"/api/{API_VERSION}/suggest",
        response_model=SuggestReply,
        response_model_exclude_none=True,  # `labels` only when the algorithm sets some
        responses=_PROBLEMS,
    )
    def suggest(body: SuggestBody) -> SuggestReply:
        start = time.perf_counter()
        outcome = "ok"
        try:
            assignments = suggest_assignments(body, registry)
            labels = [labels_of(a) for a in assignments]
            return SuggestReply(
                algorithm=body.algorithm,
                assignments=[a.rendered() for a in assignments],
                labels=labels if any(labels) else None,
            )
        except SearchExhaustedError:
            outcome = "exhausted"
            return SuggestReply(algorithm=body.algorithm, assignments=[], exhausted=True)
        except Exception as exc:
            outcome = "error"
            raise _as_problem(exc, body.algorithm, metrics) from exc
        finally:
            label = body.algorithm if body.algorithm in registry else "unknown"
            metrics.requests.labels("suggest", label, outcome).inc()
            metrics.latency.labels(label).observe(time.perf_counter() - start)

    @app.post(f"/api/{API_VERSION}/validate", response_model=ValidateReply, responses=_PROBLEMS)
    def validate(body: ValidateBody) -> ValidateReply:
        label = body.algorithm if body.algorithm in registry else "unknown"
        try:
            problems = validate_settings(body, registry)
        except Exception as exc:
            metrics.requests.labels("validate", label, "error").inc()
            raise _as_problem(exc, body.algorithm, metrics) from exc
        metrics.requests.labels("validate", label, "ok").inc()
        items = [ProblemItem(path=p.path, message=p.message) for p in problems]
        return ValidateReply(valid=not items, problems=items)

    return app


def _as_problem(exc: Exception, algorithm: str, metrics: ServiceMetrics) -> ApiProblem:
    if isinstance(exc, UnknownAlgorithmError):
        metrics.errors.labels("unknown", "unknown_algorithm").inc()
        return ApiProblem(422, "Unknown algorithm", str(exc), [Problem("algorithm", str(exc))])
    if isinstance(exc, SpecError):
        metrics.errors.labels(algorithm, "invalid").inc()
        return ApiProblem(422, "Invalid request", str(exc), exc.problems)
    if isinstance(exc, InvalidSettingsError):
        metrics.errors.labels(algorithm, "invalid").inc()
        return ApiProblem(422, "Invalid algorithm settings", str(exc), exc.problems)
    if isinstance(exc, ValueError):
        metrics.errors.labels(algorithm, "invalid").inc()
        return ApiProblem(422, "Invalid request", str(exc))
    metrics.errors.labels(algorithm, "failed").inc()
    logger.exception("suggestion request for %s failed", algorithm)
    return ApiProblem(500, "Suggestion failed", f"{type(exc).__name__}: {exc}")
