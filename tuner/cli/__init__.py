"""The `tuner` command.

Each command group lives in its own module of this package and exposes `register(app)`; this module
only assembles them, so adding a command touches one line here. Exit codes across the CLI:
0 success, 1 the work ran and failed, 2 invalid input or usage (see `tuner.cli._common.ExitCode`).
"""

from __future__ import annotations

import importlib

import typer

from tuner._version import __version__
from tuner.cli._common import DEBUG_ENV, enable_debug, new_typer, run_app

# Command modules, in the order their commands appear in `tuner --help`.
COMMAND_MODULES: tuple[str, ...] = (
    "run",
    "validate",
    "experiments",
    "pipelines",
    "models",
    "serve",
    "server",
    "suggestion_server",
    "db",
    "crds",
)

app = new_typer(
    name="tuner",
    help=(
        "Katib-compatible hyperparameter tuning on this machine: run and inspect experiments, run and "
        "compile KFP-style pipelines, register, promote and serve models, run a REST server for "
        "submitted experiments, manage the metadata store, serve suggestions over HTTP."
    ),
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"tuner {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version and exit."
    ),
    debug: bool = typer.Option(
        False,
        "--debug",
        help=f"Show the Python traceback of an error (for bug reports); also {DEBUG_ENV}=1.",
    ),
) -> None:
    """Katib-compatible hyperparameter tuning."""
    if debug:
        enable_debug()


for _module in COMMAND_MODULES:
    importlib.import_module(f"tuner.cli.{_module}").register(app)


def main(args: list[str] | None = None) -> None:
    """Console-script entry point (`args` default to the command line); always exits."""
    run_app(app, args)
