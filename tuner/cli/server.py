"""`tuner server` (the REST API and the controller of submitted experiments) and `tuner submit`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from tuner.cli._common import ExitCode, fail, settings_from, stderr_console, store_option

SERVER_ENV = "TUNER_SERVER"


def register(app: typer.Typer) -> None:
    app.command("server")(server)
    app.command("submit", no_args_is_help=True)(submit)


def server(
    host: str = typer.Option("127.0.0.1", "--host", envvar="TUNER_SERVER_HOST", help="Address to listen on."),
    port: int = typer.Option(8080, "--port", min=0, max=65535, envvar="TUNER_SERVER_PORT", help="TCP port."),
    store: str | None = store_option(),
    root_path: str = typer.Option(
        "", "--root-path", help="URL prefix when served behind a reverse proxy that strips it (e.g. /tuner)."
    ),
    log_level: str = typer.Option(
        "info", "--log-level", help="uvicorn log level: debug, info, warning, error."
    ),
) -> None:
    """Serve the REST API (/api/v1, OpenAPI at /api/v1/docs, /healthz, /readyz, /metrics) and run every
    submitted experiment's controller; unfinished experiments resume when it starts again."""
    import uvicorn

    from tuner.server.app import create_app

    settings = settings_from(store=store)
    if root_path and (not root_path.startswith("/") or root_path.endswith("/")):
        fail(
            f"--root-path {root_path!r} must start with / and not end with one, e.g. /tuner", ExitCode.INVALID
        )
    if host not in ("127.0.0.1", "localhost", "::1"):
        stderr_console().print(
            f"warning: listening on {host} without authentication (not there yet): anyone who reaches this "
            "address can submit and delete experiments",
            markup=False,
        )
    stderr_console().print(
        f"tuner server on http://{host}:{port}{root_path} (store {settings.store_url}); submit with "
        f"`tuner submit FILE --server http://{host}:{port}{root_path}`",
        markup=False,
    )
    uvicorn.run(create_app(settings, root_path=root_path), host=host, port=port, log_level=log_level)


def submit(
    file: Path = typer.Argument(
        ..., metavar="FILE", help="The experiment (YAML or JSON).", show_default=False
    ),
    server_url: str | None = typer.Option(
        None,
        "--server",
        envvar=SERVER_ENV,
        help=f"The tuner server's URL. Env: {SERVER_ENV}.",
        show_default=False,
    ),
) -> None:
    """Submit an experiment to a running `tuner server`; it runs there. Exit 2 when it is refused."""
    import httpx

    if not server_url:
        fail(
            f"no server: pass --server URL or set {SERVER_ENV} (start one with `tuner server`)",
            ExitCode.INVALID,
        )
    try:
        body = file.read_bytes()
    except OSError as exc:
        fail(f"{file}: cannot read: {exc.strerror or exc}", ExitCode.INVALID)
    content_type = "application/json" if file.suffix == ".json" else "application/yaml"
    base = server_url.rstrip("/")
    try:
        reply = httpx.post(
            f"{base}/api/v1/experiments", content=body, headers={"content-type": content_type}, timeout=60
        )
    except httpx.HTTPError as exc:
        fail(f"cannot reach the server at {base}: {exc}", ExitCode.FAILED)
    if reply.status_code == 201:
        document = reply.json()
        namespace = document["metadata"]["namespace"]
        name = document["metadata"]["name"]
        stderr_console().print(
            f"submitted {namespace}/{name}; follow it at {base}/api/v1/experiments/{namespace}/{name} "
            f"(trials: {base}/api/v1/experiments/{namespace}/{name}/trials)",
            markup=False,
        )
        return
    problem = _problem(reply)
    lines = [f"{file}: {problem.get('detail') or problem.get('title') or reply.status_code}"]
    for item in problem.get("problems") or []:
        lines.append(f"  {item.get('path') or '(document)'}: {item.get('message')}")
    code = ExitCode.INVALID if 400 <= reply.status_code < 500 else ExitCode.FAILED
    fail("\n".join(lines), code)


def _problem(reply: Any) -> dict[str, Any]:
    try:
        body = reply.json()
    except (json.JSONDecodeError, ValueError):
        return {"detail": f"HTTP {reply.status_code}: {reply.text[:200]}"}
    return body if isinstance(body, dict) else {"detail": str(body)}
