"""`tuner experiments list|show|stop|delete` and `tuner trials list|logs`: what the store knows.

Every list/show command prints a table, or with `-o json|yaml` Katib's objects alone on stdout (an
Experiment or Trial with apiVersion, kind, metadata, spec, status; several as `kind: List`).
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from tuner.cli._common import (
    ExitCode,
    OutputFormat,
    fail,
    new_typer,
    output_option,
    print_document,
    settings_from,
    stderr_console,
    stdout_console,
    store_option,
)

NAMESPACE_HELP = "The experiment's namespace."


def register(app: typer.Typer) -> None:
    experiments = new_typer(name="experiments", help="List, inspect, stop and delete experiments.")
    experiments.command("list")(list_experiments)
    experiments.command("show")(show_experiment)
    experiments.command("stop")(stop_experiment)
    experiments.command("delete")(delete_experiment)
    app.add_typer(experiments)
    trials = new_typer(name="trials", help="List trials and read their logs.")
    trials.command("list")(list_trials)
    trials.command("logs")(trial_logs)
    app.add_typer(trials)


@contextmanager
def _opened(store: str | None) -> Iterator[Any]:
    """The store named by `--store` (or the environment), closed afterwards."""
    from tuner.store import open_store

    db = open_store(settings_from(store=store).store_url)
    try:
        yield db
    finally:
        db.close()


def _get(db: Any, name: str, namespace: str) -> Any:
    from tuner.errors import NotFoundError

    try:
        return db.get_experiment(name, namespace)
    except NotFoundError:
        fail(
            f"no experiment {name!r} in namespace {namespace!r}; `tuner experiments list` shows the ones there are"
        )


def list_experiments(
    namespace: str | None = typer.Option(
        None, "--namespace", "-n", help="Only this namespace (default: all)."
    ),
    store: str | None = store_option(),
    output: OutputFormat | None = output_option(),
) -> None:
    """List experiments with their state and best trial."""
    from tuner.views import experiment_document, list_document

    with _opened(store) as db:
        records = db.list_experiments(namespace)
        if output is not None:
            print_document(list_document(experiment_document(r) for r in records), output)
            return
        table = Table(show_lines=False)
        for column in ("namespace", "name", "state", "trials", "best trial", "created"):
            table.add_column(column)
        for r in records:
            status = r.status or {}
            optimal = status.get("currentOptimalTrial") or {}
            metrics = (optimal.get("observation") or {}).get("metrics") or []
            best = (
                f"{optimal.get('bestTrialName')} {metrics[0]['name']}={metrics[0]['latest']}"
                if metrics
                else ""
            )
            table.add_row(
                r.namespace, r.name, r.state.value, str(status.get("trials", 0)), best, str(r.created_at)[:19]
            )
        stdout_console().print(table)


def show_experiment(
    name: str = typer.Argument(..., help="The experiment's name."),
    namespace: str = typer.Option("default", "--namespace", "-n", help=NAMESPACE_HELP),
    store: str | None = store_option(),
    output: OutputFormat | None = output_option(),
) -> None:
    """Show one experiment: its status, conditions and trials."""
    from tuner.cli.run import print_summary
    from tuner.views import experiment_document

    with _opened(store) as db:
        record = _get(db, name, namespace)
        if output is not None:
            print_document(experiment_document(record), output)
            return
        print_summary(db, record, stdout_console())
        lease = db.get_lease(record.id)
        if lease is not None:
            stdout_console().print(f"running: driven by {lease.holder}", markup=False)


def stop_experiment(
    name: str = typer.Argument(..., help="The experiment's name."),
    namespace: str = typer.Option("default", "--namespace", "-n", help=NAMESPACE_HELP),
    store: str | None = store_option(),
    wait: float = typer.Option(60.0, help="Seconds to wait for the run to stop (0: do not wait)."),
) -> None:
    """Stop a running experiment, from any terminal or host: its trials stop, the process that drives it
    (`tuner run` or a `tuner.tune` call) goes on, and running it again continues it."""
    from controllers.lease import describe, provably_dead

    with _opened(store) as db:
        record = _get(db, name, namespace)
        lease = db.request_stop(record.id)
        if lease is None:
            stderr_console().print(
                f"experiment {name} is not running (state {record.state.value})", markup=False
            )
            return
        if provably_dead(lease.holder):
            stderr_console().print(
                f"experiment {name} is not running: {describe(lease.holder)} that drove it has ended; "
                "running it again continues it",
                markup=False,
            )
            return
        stderr_console().print(f"asked {describe(lease.holder)} to stop {name}", markup=False)
        deadline = time.monotonic() + wait
        while (current := db.get_lease(record.id)) is not None and current.holder == lease.holder:
            if time.monotonic() >= deadline:
                fail(
                    f"experiment {name} did not stop within {wait:g} s ({describe(lease.holder)}); "
                    "it stops at its next pass, or give it longer with --wait",
                    ExitCode.FAILED,
                )
            time.sleep(0.2)
        state = db.get_experiment_by_id(record.id).state.value
        stderr_console().print(f"stopped {name} ({state}); running it again continues it", markup=False)


def delete_experiment(
    name: str = typer.Argument(..., help="The experiment's name."),
    namespace: str = typer.Option("default", "--namespace", "-n", help=NAMESPACE_HELP),
    store: str | None = store_option(),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete an experiment with its trials, metrics, logs and trial files."""
    from controllers.local_run import runs_root

    settings = settings_from(store=store)
    with _opened(store) as db:
        record = _get(db, name, namespace)
        if db.get_lease(record.id) is not None:
            fail(
                f"experiment {name} is running; stop it first with `tuner experiments stop {name}`",
                ExitCode.FAILED,
            )
        if not yes:
            if not sys.stdin.isatty():
                fail("deleting needs confirmation: pass --yes")
            typer.confirm(f"Delete experiment {name} with all its trials, metrics and logs?", abort=True)
        db.delete_experiment(record.id)
        folder = runs_root(settings) / namespace / name
        shutil.rmtree(folder, ignore_errors=True)
        stderr_console().print(f"deleted experiment {name}", markup=False)


def list_trials(
    experiment: str = typer.Argument(..., help="The experiment's name."),
    namespace: str = typer.Option("default", "--namespace", "-n", help=NAMESPACE_HELP),
    store: str | None = store_option(),
    output: OutputFormat | None = output_option(),
) -> None:
    """List the trials of an experiment with their assignments and metrics."""
    from tuner.views import list_document, trial_documents

    with _opened(store) as db:
        record = _get(db, experiment, namespace)
        if output is not None:
            print_document(list_document(trial_documents(db, record)), output)
            return
        rows = db.compare_trials(record.id)
        table = Table()
        table.add_column("trial")
        table.add_column("state")
        params = [a.name for a in rows[0].trial.assignments] if rows else []
        metrics = sorted({m for row in rows for m in row.metrics})
        for column in [*params, *metrics]:
            table.add_column(column)
        for row in rows:
            values = [
                f"{row.metrics[m].latest:.6g}"
                if m in row.metrics and row.metrics[m].latest is not None
                else ""
                for m in metrics
            ]
            table.add_row(
                row.trial.name, row.trial.state.value, *[a.value for a in row.trial.assignments], *values
            )
        stdout_console().print(table)


def trial_logs(
    trial: str = typer.Argument(..., help="The trial's name."),
    namespace: str = typer.Option("default", "--namespace", "-n", help=NAMESPACE_HELP),
    store: str | None = store_option(),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing while the trial runs."),
) -> None:
    """Print a trial's output (stdout and stderr of every attempt)."""
    with _opened(store) as db:
        found = _find_trial(db, trial, namespace)
        path = Path(found.runtime.log_path) if found.runtime and found.runtime.log_path else None
        if path is None:
            fail(f"trial {trial} has no log yet (state {found.state.value})", ExitCode.FAILED)
        from controllers.collectors.follow import FileFollower

        follower = FileFollower(path)
        out = sys.stdout
        while True:
            out.write(follower.read_all_new())
            out.flush()
            if not follow or db.get_trial(found.id).state.is_finished:
                out.write(follower.read_all_new())
                return
            time.sleep(0.3)


def _find_trial(db: Any, name: str, namespace: str) -> Any:
    from tuner.errors import NotFoundError

    for record in db.list_experiments(namespace):
        try:
            return db.get_trial_by_name(record.id, name)
        except NotFoundError:
            continue
    fail(f"no trial {name!r} in namespace {namespace!r}; `tuner trials list EXPERIMENT` shows them")
