"""`tuner suggestion-server`: serve the stateless suggestion API over HTTP (uvicorn + FastAPI).

The service itself lives in `suggestions.service`; this module only reads the options and starts it.
"""

from __future__ import annotations

import typer

from tuner.cli._common import stderr_console


def register(app: typer.Typer) -> None:
    """Add the `suggestion-server` command."""

    @app.command("suggestion-server")
    def suggestion_server(
        host: str = typer.Option(
            "127.0.0.1",
            "--host",
            envvar="TUNER_SUGGESTION_HOST",
            help="Address to listen on (0.0.0.0 for all).",
        ),
        port: int = typer.Option(
            6789,
            "--port",
            min=1,
            max=65535,
            envvar="TUNER_SUGGESTION_PORT",
            help="TCP port (Katib uses 6789).",
        ),
        log_level: str = typer.Option(
            "info", "--log-level", help="uvicorn log level: debug, info, warning, error."
        ),
    ) -> None:
        """Serve suggestions over HTTP: /api/v1/suggest, /api/v1/validate, /healthz, /readyz, /metrics.

        Stateless: every request carries the search space, the settings and the whole history, so any
        number of replicas can run behind one Service.
        """
        import uvicorn

        from suggestions.registry import default_registry
        from suggestions.service import create_app

        registry = default_registry()
        console = stderr_console()
        for name, error in registry.plugin_errors.items():
            console.print(f"warning: suggestion plugin {name!r} failed to load: {error}", markup=False)
        console.print(
            f"suggestion service on http://{host}:{port} ({len(registry.names())} algorithms)", markup=False
        )
        uvicorn.run(create_app(registry), host=host, port=port, log_level=log_level)
