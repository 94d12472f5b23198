"""Errors as RFC 9457 `application/problem+json`, everywhere in the server.

Routes raise `ApiProblem` (or a `TunerError` that `install_handlers` maps); FastAPI's own errors (a bad
query parameter, an unknown path, a wrong method) go through the same handlers, so a client never sees
another error shape. `PROBLEM_RESPONSES` documents the body in the OpenAPI of every route.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from tuner.errors import (
    AlreadyExistsError,
    LeaseHeldError,
    NotFoundError,
    SpecError,
    StoreValueError,
)
from tuner.http_problems import PROBLEM_JSON, ApiProblem, problem_response, request_problems

logger = logging.getLogger(__name__)


class ProblemItem(BaseModel):
    """One problem of a request: the field path and what is wrong."""

    path: str
    message: str


class ProblemBody(BaseModel):
    """An RFC 9457 problem detail; `problems` lists every invalid field of a rejected document."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    problems: list[ProblemItem] | None = None


def _described(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": ProblemBody.model_json_schema()}},
    }


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _described("The body could not be read (not UTF-8 or not the declared content type)"),
    404: _described("No such experiment or trial"),
    409: _described("The request conflicts with the experiment's state"),
    422: _described("Invalid input: every problem with its field path"),
    500: _described("The server failed"),
}
"""The error responses every `/api/v1` route may give (added to the OpenAPI)."""


def install_handlers(app: FastAPI) -> None:
    """Every error the app can answer becomes a problem body."""

    @app.exception_handler(ApiProblem)
    async def _api_problem(request: Request, exc: ApiProblem) -> JSONResponse:
        return problem_response(exc)

    @app.exception_handler(SpecError)
    async def _spec_error(request: Request, exc: SpecError) -> JSONResponse:
        count = len(exc.problems)
        detail = f"the experiment has {count} problem{'s' if count != 1 else ''}; fix every field listed"
        return problem_response(ApiProblem(422, "Invalid experiment", detail, exc.problems))

    @app.exception_handler(NotFoundError)
    async def _not_found(request: Request, exc: NotFoundError) -> JSONResponse:
        return problem_response(ApiProblem(404, "Not found", str(exc)))

    @app.exception_handler(LeaseHeldError)
    async def _lease_held(request: Request, exc: LeaseHeldError) -> JSONResponse:
        return problem_response(ApiProblem(409, "Experiment is driven elsewhere", str(exc)))

    @app.exception_handler(AlreadyExistsError)
    async def _exists(request: Request, exc: AlreadyExistsError) -> JSONResponse:
        return problem_response(ApiProblem(409, "Already exists", str(exc)))

    @app.exception_handler(StoreValueError)
    async def _bad_value(request: Request, exc: StoreValueError) -> JSONResponse:
        return problem_response(ApiProblem(422, "Invalid value", str(exc)))

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = request_problems(exc)
        return problem_response(
            ApiProblem(422, "Invalid request", f"{len(problems)} problem(s) in the request", problems)
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
        return problem_response(ApiProblem(exc.status_code, title, str(exc.detail)))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("request %s %s failed", request.method, request.url.path)
        return problem_response(ApiProblem(500, "Internal server error", f"{type(exc).__name__}: {exc}"))
