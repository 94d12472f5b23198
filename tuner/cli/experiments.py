"""`tuner experiments list|show|stop|delete` and `tuner trials list|show|logs`: what the store knows.

Every list/show command prints a table, or with `-o json|yaml` Katib's objects alone on stdout (an
Experiment or Trial with apiVersion, kind, metadata, spec, status; several as `kind: List`, written item by
item as they are read). Tables of trials show the best few by the experiment's objective, read sorted and
cut by the store, so a 10,000-trial experiment answers as fast as a small one. Metric values are the
experiment's metric strategy (min, max or latest), and the headers say which.

Only the store and what a command needs are imported (no spec models, no engines) to answer quickly.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from tuner.cli._common import (
    ExitCode,
    OutputFormat,
    fail,
    new_typer,
    output_option,
    print_document,
    print_list,
    settings_from,
    stderr_console,
    stdout_console,
    store_option,
    token_option,
)
from tuner.cli.remote import server_option

if TYPE_CHECKING:
    from tuner.store.records import Trial, TrialOrder
    from tuner.views import Objective

NAMESPACE_HELP = "The experiment's namespace."
TRIAL_HELP = "The trial's name, a unique prefix of it, or its 8-character suffix."


class TrialOutput(str, Enum):
    """`-o` of `trials list`: the Katib documents, or one CSV row per trial."""

    json = "json"
    yaml = "yaml"
    csv = "csv"


def register(app: typer.Typer) -> None:
    experiments = new_typer(name="experiments", help="List, inspect, stop and delete experiments.")
    experiments.command("list")(list_experiments)
    experiments.command("show")(show_experiment)
    experiments.command("stop")(stop_experiment)
    experiments.command("delete")(delete_experiment)
    app.add_typer(experiments)
    trials = new_typer(name="trials", help="List and inspect trials and read their logs.")
    trials.command("list")(list_trials)
    trials.command("show")(show_trial)
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
    from tuner.lookups import find_experiment

    try:
        return find_experiment(db, name, namespace)
    except NotFoundError as exc:
        fail(str(exc.args[0]))


def list_experiments(
    namespace: str | None = typer.Option(
        None, "--namespace", "-n", help="Only this namespace (default: all)."
    ),
    store: str | None = store_option(),
    output: OutputFormat | None = output_option(),
    server: str | None = server_option(),
    token: str | None = token_option(),
) -> None:
    """List experiments with their state and best trial."""
    if server:
        from tuner.cli import remote

        return remote.list_experiments(server, namespace, output, token=token)
    from tuner.views import experiment_document, objective_of, status_value_text

    with _opened(store) as db:
        records = db.list_experiments(namespace)
        if output is not None:
            print_list((experiment_document(r) for r in records), output)
            return
        table = Table(show_lines=False)
        for column in ("namespace", "name", "state", "trials", "best trial", "objective", "created"):
            table.add_column(column)
        for r in records:
            status = r.status or {}
            objective = objective_of(r)
            optimal = status.get("currentOptimalTrial") or {}
            metrics = (optimal.get("observation") or {}).get("metrics") or []
            shown = next((m for m in metrics if m.get("name") == objective.metric), None)
            value = ""
            if shown is not None:
                value = f"{objective.label} {status_value_text(shown.get(objective.strategy.value))}"
            table.add_row(
                r.namespace,
                r.name,
                _state_text(db, r),
                str(status.get("trials", 0)),
                str(optimal.get("bestTrialName") or ""),
                value,
                str(r.created_at)[:19],
            )
        stdout_console().print(table)


def _state_text(db: Any, record: Any) -> str:
    """The state, and for an unfinished experiment that no live process drives (its driver was killed,
    the lease expired) say so: `tuner run` or the same `tuner.tune(name=...)` call continues it."""
    from tuner.states import ExperimentState

    state = str(record.state.value)
    if record.state in (ExperimentState.CREATED, ExperimentState.RUNNING, ExperimentState.RESTARTING):
        from controllers.lease import provably_dead

        lease = db.get_lease(record.id)
        if lease is None or provably_dead(lease.holder):
            return f"{state} (no driver: run it again to continue)"
    return state


def show_experiment(
    name: str = typer.Argument(..., help="The experiment's name."),
    namespace: str = typer.Option("default", "--namespace", "-n", help=NAMESPACE_HELP),
    store: str | None = store_option(),
    output: OutputFormat | None = output_option(),
    limit: int = typer.Option(10, "--limit", min=0, help="Show the best N trials (0: none)."),
    server: str | None = server_option(),
    token: str | None = token_option(),
) -> None:
    """Show one experiment: its state, trial counts, conditions, best trial and its best N trials."""
    if server:
        from tuner.cli import remote

        return remote.show_experiment(server, name, namespace, output, token=token)
    from tuner.cli.run import print_summary
    from tuner.views import experiment_document

    with _opened(store) as db:
        record = _get(db, name, namespace)
        if output is not None:
            print_document(experiment_document(record), output)
            return
        print_summary(db, record, stdout_console(), limit=limit)
        lease = db.get_lease(record.id)
        if lease is not None:
            stdout_console().print(f"running: driven by {lease.holder}", markup=False)


def stop_experiment(
    name: str = typer.Argument(..., help="The experiment's name."),
    namespace: str = typer.Option("default", "--namespace", "-n", help=NAMESPACE_HELP),
    store: str | None = store_option(),
    wait: float = typer.Option(60.0, help="Seconds to wait for the run to stop (0: do not wait)."),
    server: str | None = server_option(),
    token: str | None = token_option(),
) -> None:
    """Stop a running experiment, from any terminal or host: its trials stop, the process that drives it
    (`tuner run` or a `tuner.tune` call) goes on, and running it again continues it."""
    if server:
        from tuner.cli import remote

        return remote.stop_experiment(server, name, namespace, token=token)
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
    server: str | None = server_option(),
    token: str | None = token_option(),
) -> None:
    """Delete an experiment with its trials, metrics, logs and trial files."""
    if server:
        from tuner.cli import remote

        return remote.delete_experiment(server, name, namespace, yes, token=token)
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
    output: TrialOutput | None = typer.Option(
        None, "-o", "--output", help="Print every trial (or --limit of them) as json, yaml or csv on stdout."
    ),
    limit: int | None = typer.Option(
        None, "--limit", min=0, help="At most N trials (default: 20 in the table, all with -o)."
    ),
    offset: int = typer.Option(0, "--offset", min=0, help="Skip the first N trials of the order (paging)."),
    sort_by: str | None = typer.Option(
        None,
        "--sort-by",
        help="A metric to sort by, best first, or `number` (default: the objective in the table, trial "
        "number with -o).",
    ),
    state: list[str] = typer.Option(
        [], "--state", help="Only trials in this state (repeatable), e.g. Succeeded, Failed, Running."
    ),
    server: str | None = server_option(),
    token: str | None = token_option(),
) -> None:
    """List the trials of an experiment: the best 20 by the objective, with their parameters and metrics."""
    if server:
        from tuner.cli import remote

        return remote.list_trials(
            server, experiment, namespace, output.value if output else None, limit, offset, state, token=token
        )
    from tuner.views import metric_names, objective_of

    with _opened(store) as db:
        record = _get(db, experiment, namespace)
        objective = objective_of(record)
        states = _states(state)
        order = _order(db, record, objective, sort_by, table=output is None)
        if output is not None:
            _write_trials(db, record, objective, output, states, order, limit, offset)
            return
        shown = 20 if limit is None else limit
        rows = db.compare_trials(record.id, None, states, sort_by=order, limit=shown, offset=offset)
        names = metric_names(record)
        extra = sorted({m for row in rows for m in row.metrics} - set(names))
        _print_trial_table(rows, objective, [*names, *extra])
        total = sum(db.count_trials(record.id).values()) if not states else _count(db, record.id, states)
        _print_page_note(experiment, total, offset, len(rows), order, objective)


def _states(given: list[str]) -> list[Any] | None:
    from tuner.states import TrialState

    if not given:
        return None
    by_name = {s.value.lower(): s for s in TrialState}
    chosen = []
    for text in given:
        for part in text.split(","):
            found = by_name.get(part.strip().lower().replace("_", "").replace("-", ""))
            if found is None:
                from tuner.spec.suggest import did_you_mean

                fail(
                    f"--state {part!r} is not a trial state{did_you_mean(part, [s.value for s in TrialState])} "
                    f"(one of {', '.join(s.value for s in TrialState)})"
                )
            chosen.append(found)
    return chosen


def _order(db: Any, record: Any, objective: Objective, sort_by: str | None, table: bool) -> TrialOrder | None:
    """The store order for `--sort-by` (default: the objective for tables, trial number for documents)."""
    from tuner.store.records import TrialOrder
    from tuner.views import metric_names

    if sort_by == "number" or (sort_by is None and not table):
        return None
    if sort_by is None or sort_by == objective.metric:
        return objective.order
    order = TrialOrder(sort_by, objective.goal, objective.strategy_of(sort_by))
    names = metric_names(record)
    if sort_by not in names:
        first = db.compare_trials(record.id, [sort_by], sort_by=order, limit=1)
        if not first or sort_by not in first[0].metrics:
            from tuner.spec.suggest import did_you_mean

            fail(
                f"--sort-by {sort_by!r}: no trial reported this metric{did_you_mean(sort_by, names)} "
                f"(metrics: {', '.join(names)}; or `number`)"
            )
    return order


def _count(db: Any, experiment_id: int, states: list[Any]) -> int:
    counts = db.count_trials(experiment_id)
    return sum(counts.get(s, 0) for s in states)


def _metric_header(objective: Objective, metric: str) -> str:
    return f"{metric} ({objective.strategy_of(metric).value})"


def _print_trial_table(rows: list[Any], objective: Objective, metrics: list[str]) -> None:
    from tuner.progress import short_value
    from tuner.views import format_value

    table = Table()
    table.add_column("trial")
    table.add_column("state")
    params = [a.name for a in rows[0].trial.assignments] if rows else []
    for column in params:
        table.add_column(column)
    for metric in metrics:
        table.add_column(_metric_header(objective, metric), justify="right")
    for row in rows:
        values = []
        for metric in metrics:
            summary = row.metrics.get(metric)
            values.append(format_value(summary.value_for(objective.strategy_of(metric)) if summary else None))
        table.add_row(
            row.trial.name,
            row.trial.state.value,
            *[short_value(a.value, 6) for a in row.trial.assignments],
            *values,
        )
    stdout_console().print(table)


def _print_page_note(
    experiment: str, total: int, offset: int, shown: int, order: TrialOrder | None, objective: Objective
) -> None:
    by = "trial number" if order is None else f"{order.metric} ({order.strategy.value}), best first"
    if total == 0:
        stdout_console().print(f"no trials of {experiment} match", markup=False)
        return
    first, last = (offset + 1, offset + shown) if shown else (offset, offset)
    note = f"trials {first}-{last} of {total} by {by}"
    if last < total:
        note += f"; more with --offset {last} (or --limit N)"
    stdout_console().print(note, markup=False)


def _write_trials(
    db: Any,
    record: Any,
    objective: Objective,
    output: TrialOutput,
    states: list[Any] | None,
    order: TrialOrder | None,
    limit: int | None,
    offset: int,
) -> None:
    """Every chosen trial as Katib documents or CSV rows, written page by page as the store returns them."""
    from tuner.views import iter_rows, metric_names, search_space, trial_document, trial_row

    rows = iter_rows(db, record, states=states, sort_by=order, limit=limit, offset=offset)
    if output == TrialOutput.csv:
        import csv

        names = metric_names(record)
        space = search_space(record)
        writer: Any = None
        for row in rows:
            flat = trial_row(record, row, objective, names, space)
            if writer is None:
                writer = csv.DictWriter(sys.stdout, fieldnames=list(flat), lineterminator="\n")
                writer.writeheader()
            writer.writerow({k: _csv_text(v) for k, v in flat.items()})
        sys.stdout.flush()
        return
    print_list((trial_document(record, row.trial, row.metrics) for row in rows), OutputFormat(output.value))


def _csv_text(value: Any) -> Any:
    from datetime import datetime

    if isinstance(value, datetime):
        return value.isoformat()
    return "" if value is None else value


def show_trial(
    trial: str = typer.Argument(..., help=TRIAL_HELP),
    namespace: str | None = typer.Option(
        None, "--namespace", "-n", help="Only this namespace (default: any)."
    ),
    store: str | None = store_option(),
    output: OutputFormat | None = output_option(),
    server: str | None = server_option(),
    token: str | None = token_option(),
) -> None:
    """Show one trial: state, parameters, metrics (min, max, latest), times, folder and log."""
    if server:
        from tuner.cli import remote

        return remote.show_trial(server, trial, namespace, output, token=token)
    from tuner.views import format_value, objective_of, trial_document, trial_folder

    with _opened(store) as db:
        found = _find_trial(db, trial, namespace)
        record = db.get_experiment_by_id(found.experiment_id)
        summaries = db.metric_summaries(found.id)
        if output is not None:
            print_document(trial_document(record, found, summaries), output)
            return
        objective = objective_of(record)
        console = stdout_console()
        lines = [
            f"trial {found.name} of experiment {record.namespace}/{record.name}: {found.state.value}"
            + (f" ({found.reason})" if found.reason else ""),
        ]
        if found.message:
            lines.append(f"  message: {found.message}")
        lines.append("  parameters: " + ", ".join(f"{a.name}={a.value}" for a in found.assignments))
        for name, summary in summaries.items():
            strategy = objective.strategy_of(name)
            role = "objective, " if name == objective.metric else ""
            count = f"{summary.count} value{'s' if summary.count != 1 else ''}"
            lines.append(
                f"  {name} ({role}{strategy.value}): {format_value(summary.value_for(strategy))}  "
                f"(min {format_value(summary.min)}, max {format_value(summary.max)}, "
                f"latest {format_value(summary.latest)}; {count})"
            )
        for label, moment in (("started", found.started_at), ("completed", found.completed_at)):
            if moment is not None:
                lines.append(f"  {label}: {str(moment)[:19]}")
        folder = trial_folder(found)
        if folder is not None:
            lines.append(f"  folder: {folder}")
        console.print("\n".join(lines), markup=False)


def trial_logs(
    trial: str = typer.Argument(..., help=TRIAL_HELP),
    namespace: str | None = typer.Option(
        None, "--namespace", "-n", help="Only this namespace (default: any)."
    ),
    store: str | None = store_option(),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing while the trial runs."),
    server: str | None = server_option(),
    token: str | None = token_option(),
) -> None:
    """Print a trial's output (stdout and stderr of every attempt)."""
    if server:
        from tuner.cli import remote

        return remote.trial_logs(server, trial, namespace, follow, token=token)
    with _opened(store) as db:
        found = _find_trial(db, trial, namespace)
        path = Path(found.runtime.log_path) if found.runtime and found.runtime.log_path else None
        if path is None:
            fail(f"trial {found.name} has no log yet (state {found.state.value})", ExitCode.FAILED)
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


def _find_trial(db: Any, text: str, namespace: str | None) -> Trial:
    """The trial by full name, unique prefix or short suffix: one store query, not one per experiment."""
    from tuner.errors import NotFoundError
    from tuner.lookups import find_trial

    try:
        return find_trial(db, text, namespace)
    except NotFoundError as exc:
        fail(str(exc.args[0]))
