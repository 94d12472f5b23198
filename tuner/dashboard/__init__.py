"""The web dashboard of `tuner server`, served at `/`: experiments, trials, figures, comparisons,
submitting, pipeline runs.

`install(app)` adds its pages (`tuner.dashboard.pages`), the JSON they fetch (`tuner.dashboard.api`) and
the static files to the server's app; every route goes through the server's access rules
(`tuner.server.access.RULES`). With tokens configured, a browser without a session is sent to `/login`
instead of being shown a JSON 401.
"""

from __future__ import annotations

import inspect
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from tuner.dashboard import api, pages
from tuner.http_problems import ApiProblem

__all__ = ["install"]


def _wants_page(request: Request) -> bool:
    """A browser navigating to a page (not a script, not an API client)."""
    path = request.url.path
    return (
        request.method == "GET"
        and "text/html" in request.headers.get("accept", "")
        and not path.startswith(("/api/", "/dashboard-api/", "/dashboard-static/"))
    )


def install(app: FastAPI) -> None:
    """Mount the dashboard on `app` (after its API routes) and send pages' 401s to the login page."""
    app.include_router(pages.router)
    app.include_router(api.router)
    answer = app.exception_handlers[ApiProblem]

    async def problem(request: Request, exc: Exception) -> Response:
        if isinstance(exc, ApiProblem) and exc.status == 401 and _wants_page(request):
            base = str(request.scope.get("root_path", "")).rstrip("/")
            here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"{base}/login?next={quote(base + here, safe='/')}", status_code=303)
        response = answer(request, exc)
        return await response if inspect.isawaitable(response) else response

    app.add_exception_handler(ApiProblem, problem)
