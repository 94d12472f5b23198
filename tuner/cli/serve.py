"""`tuner serve MODEL[@alias] ...`: the inference server (Open Inference Protocol V2, KServe V1).

Every reference is loaded (and its artifact digest checked) before the port opens, so a typo or a
missing model exits with 2 and one line instead of a server that answers 404. Traffic follows the
registry: moving the alias, starting a canary or a rollback takes effect within `--poll-interval`
seconds without a restart. `--port 0` picks a free port; the line `listening on http://HOST:PORT`
on stderr says which.
"""

from __future__ import annotations

import json
import os
import socket
import sys

import typer

from tuner.cli._common import ExitCode, fail, settings_from, stderr_console, store_option


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    models: list[str] = typer.Argument(..., help="What to serve: NAME@ALIAS, NAME/VERSION or NAME."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0 in a container)."),
    port: int = typer.Option(8080, "--port", help="Port to listen on (0: any free port)."),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes (each loads every model)."),
    max_batch_size: int = typer.Option(
        32, "--max-batch-size", min=1, help="Rows per predict call at most (1: no batching)."
    ),
    max_wait_ms: float = typer.Option(
        0.0,
        "--max-wait-ms",
        min=0.0,
        help="How long a busy server waits to fill a batch (0: batch what arrived together).",
    ),
    poll_interval: float = typer.Option(
        1.0, "--poll-interval", min=0.05, help="Seconds between registry checks."
    ),
    canary_max_error_rate: float = typer.Option(
        0.05, "--canary-max-error-rate", min=0.0, max=1.0, help="Roll a canary back above this error rate."
    ),
    canary_max_p99_ms: float = typer.Option(
        500.0, "--canary-max-p99-ms", min=0.0, help="Roll a canary back above this p99 latency."
    ),
    canary_min_requests: int = typer.Option(
        50, "--canary-min-requests", min=1, help="Requests a canary answers before it is judged."
    ),
    canary_window: int = typer.Option(
        200, "--canary-window", min=1, help="Judge a canary on its last N requests."
    ),
    store: str | None = store_option(),
) -> None:
    """Serve registered models over HTTP (V2 /v2/models/NAME/infer, V1 :predict, /metrics)."""
    import uvicorn

    from serving.asgi import ServingApp
    from serving.canary import CanaryPolicy
    from serving.server import ModelServer, ServeOptions
    from tuner.errors import NotFoundError, StoreValueError

    settings = settings_from(store=store)
    options = ServeOptions(
        refs=tuple(models),
        store_url=settings.store_url,
        artifacts_url=settings.artifacts_url,
        poll_interval=poll_interval,
        max_batch_size=max_batch_size,
        max_wait_ms=max_wait_ms,
        canary=CanaryPolicy(canary_max_error_rate, canary_max_p99_ms, canary_min_requests, canary_window),
    )
    console = stderr_console()
    server = ModelServer(options)
    try:
        server.open()  # resolve and load everything now: errors here are the user's to fix
    except (NotFoundError, StoreValueError) as exc:
        fail(str(exc).strip("'\""), ExitCode.INVALID)
    for endpoint in server.served:
        routes = endpoint.routes
        assert routes is not None
        versions = ", ".join(sorted({f"v{b.label}" for b in routes.table}))
        console.print(f"serving {endpoint.ref} ({versions}) as /v2/models/{endpoint.ref.name}", markup=False)
    log_level = "warning"
    if workers > 1:
        server.store and server.store.close()
        os.environ["TUNER_SERVE_OPTIONS"] = json.dumps(options.to_env())
        console.print(f"listening on http://{host}:{port} with {workers} workers", markup=False)
        uvicorn.run(
            "serving.asgi:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            access_log=False,
        )
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror}; pick another --port", ExitCode.INVALID)
    bound = sock.getsockname()[1]
    config = uvicorn.Config(ServingApp(server), log_level=log_level, access_log=False, lifespan="on")
    console.print(f"listening on http://{host}:{bound}", markup=False)
    sys.stderr.flush()
    uvicorn.Server(config).run(sockets=[sock])
