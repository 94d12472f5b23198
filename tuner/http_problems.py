"""Errors as RFC 9457 problem details (`application/problem+json`), shared by tuner's HTTP services.

The suggestion service (`suggestions.service`) and the REST API (`tuner.server`) answer every error with the
same body: type, title, status, detail and, for invalid input, every problem with its field path.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from tuner.errors import Problem

PROBLEM_JSON = "application/problem+json"

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "problems": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "message"],
                "properties": {"path": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
"""The JSON schema of a problem body, for OpenAPI documents."""


def problem_responses(descriptions: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries answering problem+json, one per status with its description."""
    return {
        status: {"description": text, "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}}}
        for status, text in descriptions.items()
    }


class ApiProblem(Exception):
    """An error answered as problem+json."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        problems: Iterable[Problem] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.problems = status, title, detail, list(problems)
        self.headers = headers or {}


def problem_response(exc: ApiProblem) -> JSONResponse:
    """The problem+json response for `exc`."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": exc.title,
        "status": exc.status,
        "detail": exc.detail,
    }
    if exc.problems:
        body["problems"] = [{"path": p.path, "message": p.message} for p in exc.problems]
    return JSONResponse(body, status_code=exc.status, media_type=PROBLEM_JSON, headers=exc.headers or None)


def request_problems(exc: RequestValidationError) -> list[Problem]:
    """FastAPI's request validation errors as problems with field paths (`inputs[0].name`)."""
    problems = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ()) if part != "body"]
        path = ".".join(location).replace(".[", "[")
        problems.append(Problem(path, str(error.get("msg", "invalid"))))
    return problems
