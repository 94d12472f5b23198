"""`/api/v1/login`, `/api/v1/logout`, `/api/v1/whoami`: the browser's session and the caller's grants.

A browser cannot attach a bearer header to a page load, so the dashboard posts the token once (JSON
`{"token": ...}` or a form field `token`) and gets a session cookie: HttpOnly (no script reads it),
SameSite=Strict (no other site's page sends it), Secure over HTTPS. The cookie holds no token.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from tuner.errors import Problem
from tuner.server.access import (
    ANONYMOUS,
    SESSION_COOKIE,
    SESSION_SECONDS,
    access_of,
    grants_document,
)
from tuner.server.problems import PROBLEM_RESPONSES, ApiProblem
from tuner.server.tokens import Principal

router = APIRouter(prefix="/api/v1", tags=["session"], responses=PROBLEM_RESPONSES)


class Grants(BaseModel):
    """A caller's name and role per namespace ("*": every namespace)."""

    name: str
    namespaces: dict[str, str]


_LOGIN_BODY = {
    "requestBody": {
        "required": True,
        "description": "The token, as JSON or as a form field (an HTML form can post it).",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["token"],
                    "properties": {"token": {"type": "string", "minLength": 1}},
                }
            },
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["token"],
                    "properties": {"token": {"type": "string", "minLength": 1}},
                }
            },
        },
    }
}

_UNAUTHORIZED = {
    401: {
        "description": "Not a valid token",
        "content": PROBLEM_RESPONSES[422]["content"],
    }
}


async def _token_of(request: Request) -> str:
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    token: Any = None
    if "application/x-www-form-urlencoded" in content_type:
        values = parse_qs(body.decode("utf-8", "replace")).get("token")
        token = values[0] if values else None
    else:
        try:
            document = json.loads(body)
        except (UnicodeDecodeError, ValueError):
            document = None
        token = document.get("token") if isinstance(document, dict) else None
    if not isinstance(token, str) or not token.strip():
        raise ApiProblem(
            422,
            "Invalid request",
            'the body must carry the token: JSON {"token": "..."} or the form field token',
            [Problem("token", "missing; paste the token `tuner server token create` printed")],
        )
    return token.strip()


@router.post(
    "/login",
    summary="Start a browser session with a token",
    response_model=Grants,
    openapi_extra=_LOGIN_BODY,
    responses=_UNAUTHORIZED,  # type: ignore[arg-type]
)
async def login(request: Request, response: Response) -> dict[str, Any]:
    """Check the token and set the session cookie; answers the caller's grants. On a server without
    tokens it answers the anonymous admin and sets no cookie."""
    token = await _token_of(request)
    access = access_of(request)
    if access is None:
        return grants_document(ANONYMOUS)
    entry = access.tokens.lookup(token)
    if entry is None:
        raise ApiProblem(
            401,
            "Unauthorized",
            "the token is not valid for this server",
            headers={"WWW-Authenticate": 'Bearer realm="tuner", error="invalid_token"'},
        )
    response.set_cookie(
        SESSION_COOKIE,
        access.session_cookie(entry.digest),
        max_age=SESSION_SECONDS,
        path=request.scope.get("root_path") or "/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return grants_document(entry.principal)


@router.post("/logout", summary="End the browser session", status_code=204)
def logout(request: Request) -> Response:
    response = Response(status_code=204)
    response.delete_cookie(
        SESSION_COOKIE, path=request.scope.get("root_path") or "/", httponly=True, samesite="strict"
    )
    return response


@router.get("/whoami", summary="The caller's name and grants", response_model=Grants)
def whoami(request: Request) -> dict[str, Any]:
    principal: Principal = getattr(request.state, "principal", None) or ANONYMOUS
    return grants_document(principal)
