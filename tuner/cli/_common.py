"""What every command shares: exit codes, consoles, error reporting, the `--store` option, `-o` output.

Human progress goes to stderr; documents asked for with `-o json|yaml` go to stdout alone, so that
`tuner ... -o yaml > file` captures exactly the document. Rich styling is used only on terminals.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import traceback
from collections.abc import Iterable, Sequence
from enum import Enum, IntEnum
from pathlib import Path
from typing import Any, NoReturn

import typer
import yaml
from rich.console import Console

from tuner.config import Settings, store_url
from tuner.errors import ConfigError, SpecError, TunerError


class ExitCode(IntEnum):
    """The CLI's exit codes, the same for every command."""

    OK = 0
    # the work ran and failed (e.g. the experiment ended Failed), or could not be done here and now (the
    # store's server is down, its disk is full or read-only): fix the environment and run again
    FAILED = 1
    INVALID = 2  # invalid input or usage: a bad file, flag, setting or store URL; fix the input


class OutputFormat(str, Enum):
    """Machine-readable documents for `-o`."""

    json = "json"
    yaml = "yaml"


def stdout_console() -> Console:
    """Console for results; plain text, and tables never cut to 80 columns, when stdout is not a terminal."""
    if sys.stdout.isatty():
        return Console(highlight=False, soft_wrap=True)
    return Console(highlight=False, soft_wrap=True, width=250)


def stderr_console() -> Console:
    """Console for progress and errors; plain text when stderr is not a terminal."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def rich_markup_mode() -> str | None:
    """Rich help and error boxes on a terminal, plain click text otherwise."""
    return "rich" if sys.stdout.isatty() and sys.stderr.isatty() else None


def new_typer(**kwargs: Any) -> typer.Typer:
    """A command group configured like every other one (plain output off-terminal, -h, no completion)."""
    kwargs.setdefault("no_args_is_help", True)
    return typer.Typer(
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=rich_markup_mode(),  # type: ignore[arg-type]
        context_settings={"help_option_names": ["-h", "--help"]},
        **kwargs,
    )


STORE_OPTION_HELP = (
    "Metadata store: sqlite:///PATH, postgresql+psycopg://USER@HOST:PORT/DB, or a SQLite file path ending "
    "in .db, .sqlite or .sqlite3 (a bare word is refused). Env: TUNER_STORE."
)


def store_option() -> Any:
    """The `--store URL` option every store-backed command takes."""
    return typer.Option(None, "--store", help=STORE_OPTION_HELP, show_default=False)


SERVER_ENV = "TUNER_SERVER"
TOKEN_ENV = "TUNER_TOKEN"


def server_option() -> Any:
    """The `--server URL` option of every command that talks to a running `tuner server`."""
    return typer.Option(
        None,
        "--server",
        envvar=SERVER_ENV,
        help=f"The tuner server's URL. Env: {SERVER_ENV}.",
        show_default=False,
    )


def token_option() -> Any:
    """The `--token` option that goes with `--server`: the bearer token (never printed). Env: TUNER_TOKEN."""
    return typer.Option(
        None,
        "--token",
        envvar=TOKEN_ENV,
        help=f"Bearer token for the server (when it has --auth-file). Env: {TOKEN_ENV}.",
        show_default=False,
        show_envvar=False,
    )


def auth_headers(token: str | None) -> dict[str, str]:
    """The Authorization header for `token` (none without one): pass it with every request to the server."""
    return {"Authorization": f"Bearer {token.strip()}"} if token and token.strip() else {}


def output_option() -> Any:
    """The `-o json|yaml` option of list/show commands."""
    return typer.Option(None, "-o", "--output", help="Print the document as json or yaml on stdout.")


def settings_from(store: str | None = None, artifacts: str | Path | None = None) -> Settings:
    """Settings with flag values layered over the environment."""
    try:
        if store is not None:
            store = store_url(store, "--store")
        return Settings.from_env(store_url=store, artifacts_url=artifacts)
    except ConfigError as exc:
        fail(str(exc), ExitCode.INVALID)


def print_document(document: Any, fmt: OutputFormat) -> None:
    """Write a document to stdout in the requested format, nothing else."""
    plain = json.loads(json.dumps(document, default=str))  # no shared objects, so no YAML anchors
    if fmt == OutputFormat.json:
        sys.stdout.write(json.dumps(plain, indent=2) + "\n")
    else:
        sys.stdout.write(yaml.safe_dump(plain, sort_keys=False, default_flow_style=False, allow_unicode=True))
    sys.stdout.flush()


def print_list(items: Iterable[Any], fmt: OutputFormat) -> None:
    """Write `kind: List` item by item as the items come (never one document built in memory), in the
    shape `tuner.views.list_document` gives."""
    out = sys.stdout
    count = 0
    if fmt == OutputFormat.json:
        out.write('{\n  "apiVersion": "v1",\n  "kind": "List",\n  "items": [')
        for item in items:
            text = json.dumps(item, indent=2, default=str)
            out.write(("," if count else "") + "\n" + "\n".join("    " + line for line in text.splitlines()))
            count += 1
        out.write(("\n  ]" if count else "]") + ',\n  "metadata": {\n    "resourceVersion": ""\n  }\n}\n')
    else:
        out.write("apiVersion: v1\nkind: List\nitems:")
        for item in items:
            plain = json.loads(json.dumps(item, default=str))
            dumped = yaml.safe_dump([plain], sort_keys=False, default_flow_style=False, allow_unicode=True)
            out.write("\n" + dumped.rstrip("\n"))
            count += 1
        out.write(("\n" if count else " []\n") + "metadata:\n  resourceVersion: ''\n")
    out.flush()


def fail(message: str, code: ExitCode = ExitCode.INVALID) -> NoReturn:
    """Print `error: message` on stderr and exit with `code`."""
    stderr_console().print(f"error: {message}", markup=False)
    raise typer.Exit(int(code))


DEBUG_ENV = "TUNER_DEBUG"
_debug = False


def enable_debug() -> None:
    """Show Python tracebacks for errors (the root `--debug` flag; also TUNER_DEBUG=1)."""
    global _debug
    _debug = True


def debugging() -> bool:
    """Whether errors should come with their traceback (for bug reports)."""
    return _debug or os.environ.get(DEBUG_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def run_app(app: typer.Typer, args: Sequence[str] | None = None) -> NoReturn:
    """Run the typer app and exit, turning every error into one readable line and the documented exit code.

    Typer itself handles usage errors (exit 2) and `typer.Exit`. Tuner's own errors carry their message;
    database and filesystem failures are explained (`tuner.store.explain_failure`); anything else is a
    bug, reported in one line that says how to get the traceback (`--debug` or TUNER_DEBUG=1). Exit codes:
    2 for invalid input (SpecError, ConfigError), 1 when the work could not be done, 130 on Ctrl-C.
    """
    try:
        click_command(app)(args=list(args) if args is not None else None)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        stderr_console().print("interrupted", markup=False)
        sys.exit(130)
    except Exception as exc:  # the edge: every error becomes one line
        message, code = describe_error(exc)
        if debugging():
            traceback.print_exc()
        stderr_console().print(f"error: {message}", markup=False)
        sys.exit(int(code))
    sys.exit(0)  # pragma: no cover - click always exits in standalone mode


@functools.cache
def click_command(app: typer.Typer) -> Any:
    """The click command typer builds from `app`; built once per process (it costs ~30 ms per build, which
    matters to tests that call the CLI in-process hundreds of times)."""
    return typer.main.get_command(app)


def describe_error(exc: BaseException) -> tuple[str, ExitCode]:
    """The one line and exit code an error gets at the command line."""
    if isinstance(exc, (SpecError, ConfigError)):
        return str(exc), ExitCode.INVALID
    if isinstance(exc, TunerError):
        return str(exc), ExitCode.FAILED
    from tuner.store import explain_failure

    explained = explain_failure(exc)
    if explained is not None:
        return describe_error(explained)
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return (
            f"{exc.strerror or exc}{where}; check that the path exists, is writable and its disk has space",
            ExitCode.FAILED,
        )
    first = (str(exc).strip().splitlines() or [""])[0]
    return (
        f"unexpected {type(exc).__name__}: {first} -- this is a bug in tuner; run the command again with "
        f"--debug (or {DEBUG_ENV}=1) to see the traceback and include it in a bug report",
        ExitCode.FAILED,
    )
