"""`tuner server` (the REST API and the controller of submitted experiments), its token helpers
(`tuner server hash-token`, `tuner server token create`) and `tuner submit`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from tuner.cli._common import (
    SERVER_ENV,
    ExitCode,
    auth_headers,
    fail,
    new_typer,
    server_option,
    settings_from,
    stderr_console,
    store_option,
    token_option,
)
from tuner.cli.tokens import register_token_commands

LOOPBACK_NAMES = ("localhost",)
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


def register(app: typer.Typer) -> None:
    group = new_typer(no_args_is_help=False, invoke_without_command=True)
    group.callback()(server)
    register_token_commands(group)
    app.add_typer(group, name="server")
    app.command("submit", no_args_is_help=True)(submit)


def is_loopback(host: str) -> bool:
    """Whether `host` is reachable from this machine only (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def server(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", envvar="TUNER_SERVER_HOST", help="Address to listen on."),
    port: int = typer.Option(8080, "--port", min=0, max=65535, envvar="TUNER_SERVER_PORT", help="TCP port."),
    store: str | None = store_option(),
    root_path: str = typer.Option(
        "", "--root-path", help="URL prefix when served behind a reverse proxy that strips it (e.g. /tuner)."
    ),
    log_level: str = typer.Option(
        "info", "--log-level", help="uvicorn log level: debug, info, warning, error."
    ),
    auth_file: Path | None = typer.Option(
        None,
        "--auth-file",
        envvar="TUNER_SERVER_AUTH_FILE",
        help="Tokens (hashed) with their namespaces and roles; see `tuner server token create`. "
        "Env: TUNER_SERVER_AUTH_FILE, or the document itself in TUNER_SERVER_TOKENS.",
        show_default=False,
    ),
    insecure_no_auth: bool = typer.Option(
        False,
        "--insecure-no-auth",
        help="Serve without tokens on a non-loopback address: anyone who reaches it may do anything.",
    ),
) -> None:
    """Serve the REST API (/api/v1, OpenAPI at /api/v1/docs, /healthz, /readyz, /metrics) and run every
    submitted experiment's controller; unfinished experiments resume when it starts again.

    With --auth-file (or TUNER_SERVER_TOKENS) every request needs a bearer token of the namespace it
    touches; without, it listens on loopback only, open to this machine's users."""
    if ctx.invoked_subcommand is not None:
        return
    import os

    import uvicorn

    from tuner.errors import ConfigError
    from tuner.server.access import Access
    from tuner.server.app import create_app
    from tuner.server.tokens import TOKENS_ENV, load_tokens

    settings = settings_from(store=store)
    if root_path and (not root_path.startswith("/") or root_path.endswith("/")):
        fail(
            f"--root-path {root_path!r} must start with / and not end with one, e.g. /tuner", ExitCode.INVALID
        )
    if log_level.lower() not in LOG_LEVELS:
        fail(
            f"--log-level {log_level!r} is not a level; use one of {', '.join(LOG_LEVELS)}", ExitCode.INVALID
        )
    try:
        tokens = load_tokens(auth_file, os.environ)
    except ConfigError as exc:
        fail(str(exc), ExitCode.INVALID)
    if tokens is not None and insecure_no_auth:
        fail("--insecure-no-auth contradicts the tokens given; drop one of them", ExitCode.INVALID)
    if tokens is None and not insecure_no_auth and not is_loopback(host):
        fail(
            f"refusing to listen on {host} without authentication: pass --auth-file tokens.yaml (or set "
            f"{TOKENS_ENV}), or --insecure-no-auth to serve it open to everyone who reaches it",
            ExitCode.INVALID,
        )
    if tokens is not None and log_level.lower() == "trace":
        fail("--log-level trace logs request headers, bearer tokens included; use debug", ExitCode.INVALID)
    if insecure_no_auth and not is_loopback(host):
        stderr_console().print(
            f"warning: listening on {host} without authentication: anyone who reaches this address can "
            "submit and delete experiments",
            markup=False,
        )
    who = f"{len(tokens.entries)} token(s) from {tokens.source}" if tokens else "no authentication"
    stderr_console().print(
        f"tuner server on http://{host}:{port}{root_path} (store {settings.store_url}; {who}); submit with "
        f"`tuner submit FILE --server http://{host}:{port}{root_path}`",
        markup=False,
    )
    app = create_app(settings, root_path=root_path, auth=Access(tokens) if tokens else None)
    uvicorn.run(app, host=host, port=port, log_level=log_level.lower())


def submit(
    file: Path = typer.Argument(
        ..., metavar="FILE", help="The experiment (YAML or JSON).", show_default=False
    ),
    server_url: str | None = server_option(),
    token: str | None = token_option(),
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
            f"{base}/api/v1/experiments",
            content=body,
            headers={"content-type": content_type, **auth_headers(token)},
            timeout=60,
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
