"""`tuner run FILE`: run an experiment to its end on this machine, with live progress.

The experiment file is a Katib v1beta1 Experiment; its trials run as local processes (see
`controllers.local`). Progress goes to stderr: one line per finished trial, and a live summary on a
terminal. At the end a table of trials and the best one are printed, or with `-o yaml|json` the Experiment
with its Katib-shaped status alone goes to stdout, as `kubectl get experiment -o yaml` would show it.
Exit codes: 0 the experiment succeeded, 1 it failed or was stopped by `tuner experiments stop`, 2 invalid
input, 130 Ctrl-C (128 + the signal's number for another signal, e.g. 143 for SIGTERM), as the pipelines
runner and shells do.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from types import FrameType
from typing import Any

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from tuner.cli._common import (
    ExitCode,
    OutputFormat,
    output_option,
    print_document,
    settings_from,
    stderr_console,
    stdout_console,
    store_option,
)
from tuner.spec import Experiment
from tuner.states import ExperimentState, TrialState

HELP = """Run a Katib v1beta1 Experiment to its end on this machine.

Trials run the primary container's command as local processes (the image is not used). Running the same
file again continues an unfinished experiment where it stopped (e.g. after Ctrl-C or a crash); a finished
one is reported, not rerun. Exit code 0 when the experiment succeeded, 1 when it failed or was stopped with
`tuner experiments stop`, 2 for invalid input, 130 after Ctrl-C (128 + the signal's number for others)."""


def register(app: typer.Typer) -> None:
    app.command("run", help=HELP, no_args_is_help=True)(run)


def run(
    file: Path = typer.Argument(
        ..., metavar="FILE", help="The experiment (YAML or JSON).", show_default=False
    ),
    store: str | None = store_option(),
    output: OutputFormat | None = output_option(),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors and the final result."),
) -> None:
    from controllers.local_run import load_local, make_runner
    from tuner.store import open_store

    console = stderr_console()
    settings = settings_from(store=store)
    local = load_local(file, settings)
    experiment = local.experiment
    if not quiet:
        for note in local.plan.notes():
            console.print(f"note: {note}", markup=False)
    db = open_store(settings.store_url)
    try:
        progress = Progress(experiment, console, quiet)
        stop = _StopSignal()
        runner = make_runner(
            db, local, on_settled=progress.settled, on_pass=progress.update, should_stop=stop.requested
        )
        try:
            with stop, progress:
                outcome = runner.run()
        except KeyboardInterrupt:  # a second Ctrl-C: stopped at once
            console.print(f"interrupted; run `tuner run {file}` again to continue", markup=False)
            raise typer.Exit(128 + signal.SIGINT) from None
        if runner.lost and not quiet:
            lost = ", ".join(runner.lost)
            console.print(f"note: trials lost with the previous run were marked Killed: {lost}", markup=False)
        record = outcome.record
        if outcome.action == "finished":
            console.print(_finished_message(experiment, record.state), markup=False)
        if output is not None:
            from tuner.views import experiment_document

            print_document(experiment_document(record), output)
        else:
            print_summary(db, record, stdout_console())
        if outcome.interrupted:
            how = "stopped" if record.state == ExperimentState.STOPPED else "interrupted"
            console.print(
                f"{how}: running trials were stopped; run `tuner run {file}` again to continue",
                markup=False,
            )
            if stop.signal is None:  # `tuner experiments stop`
                raise typer.Exit(int(ExitCode.FAILED))
            raise typer.Exit(128 + stop.signal)
        raise typer.Exit(int(ExitCode.OK if record.state == ExperimentState.SUCCEEDED else ExitCode.FAILED))
    finally:
        db.close()


def _finished_message(experiment: Experiment, state: ExperimentState) -> str:
    hint = ""
    if state == ExperimentState.SUCCEEDED:
        hint = ", or raise maxTrialCount with resumePolicy LongRunning to continue it"
    return (
        f"experiment {experiment.name} already finished ({state.value}); to run it again, delete it with "
        f"`tuner experiments delete {experiment.name}` or change metadata.name{hint}"
    )


class _StopSignal:
    """Ctrl-C (SIGINT) and SIGTERM ask the loop to stop its trials cleanly and record the experiment
    Interrupted; a second Ctrl-C interrupts at once. (`tuner experiments stop` goes through the store.)"""

    def __init__(self) -> None:
        self.signal: int | None = None
        self._previous: dict[int, Any] = {}

    def requested(self) -> bool:
        return self.signal is not None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signal is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.signal = self.signal or signum

    def __enter__(self) -> _StopSignal:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)


class Progress:
    """One line per finished trial, and a live summary on a terminal."""

    def __init__(self, experiment: Experiment, console: Console, quiet: bool) -> None:
        self.experiment = experiment
        self.console = console
        self.quiet = quiet
        self.metric = experiment.spec.objective.objective_metric_name or ""
        self.live: Live | None = None
        self._last = 0.0
        self._text = Text("starting")

    def __enter__(self) -> Progress:
        if not self.quiet and self.console.is_terminal:
            self.live = Live(self._text, console=self.console, refresh_per_second=4, transient=True)
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)

    def settled(self, settled: Any) -> None:
        if self.quiet:
            return
        trial = settled.trial
        params = " ".join(f"{a.name}={a.value}" for a in trial.assignments)
        style = {TrialState.SUCCEEDED: "green", TrialState.EARLY_STOPPED: "yellow"}.get(settled.state, "red")
        line = Text(f"{trial.name} {settled.state.value:<18} ", style=style)
        line.append(params)
        if settled.state not in (TrialState.SUCCEEDED, TrialState.EARLY_STOPPED) and settled.message:
            lines = settled.message.splitlines()
            last = f" ... {lines[-1].strip()}" if len(lines) > 1 else ""
            line.append(f"  ({lines[0].removesuffix('; last output:')}{last})")
        self.console.print(line, soft_wrap=True)

    def update(self, runner: Any) -> None:
        if self.live is None or time.monotonic() - self._last < 0.25:
            return
        self._last = time.monotonic()
        store = runner.store
        record = store.get_experiment_by_id(runner.reconciler.experiment_id)
        status = record.status or {}
        best = (status.get("currentOptimalTrial") or {}).get("observation", {}).get("metrics", [])
        best_value = next((m.get("latest") for m in best if m.get("name") == self.metric), None)
        spec = self.experiment.spec
        text = Text(
            f"{self.experiment.name}: {status.get('trialsSucceeded', 0)} succeeded, "
            f"{status.get('trialsRunning', 0)} running, "
            f"{status.get('trialsFailed', 0) + status.get('trialMetricsUnavailable', 0)} failed"
            f" of {spec.max_trial_count or '∞'}"
        )
        if best_value is not None:
            text.append(f"  best {self.metric}={best_value}", style="bold")
        self.live.update(text)


def print_summary(db: Any, record: Any, console: Console) -> None:
    """The final table of trials (objective reduced by its metric strategy) and the best one."""
    from controllers.view import reduce_summary

    spec = record.spec.get("spec") or {}
    objective = spec.get("objective") or {}
    metric = objective.get("objectiveMetricName", "")
    strategies = {s.get("name"): s.get("value") for s in objective.get("metricStrategies") or []}
    strategy = strategies.get(metric) or ("max" if objective.get("type") == "maximize" else "min")
    rows = db.compare_trials(record.id)
    table = Table(title=f"experiment {record.name}: {record.state.value}", show_lines=False)
    table.add_column("trial")
    table.add_column("state")
    names = [a.name for a in rows[0].trial.assignments] if rows else []
    for name in names:
        table.add_column(name)
    table.add_column(metric)
    for row in rows:
        value = reduce_summary(row.metrics.get(metric), strategy)
        value_text = "" if value is None else f"{value:.6g}"
        table.add_row(
            row.trial.name, row.trial.state.value, *[a.value for a in row.trial.assignments], value_text
        )
    console.print(table)
    status = record.status or {}
    for condition in status.get("conditions") or []:
        if condition.get("type") == record.state.value:
            console.print(
                f"{record.state.value}: {condition.get('message')} ({condition.get('reason')})", markup=False
            )
    optimal = status.get("currentOptimalTrial")
    if optimal:
        params = ", ".join(f"{p['name']}={p['value']}" for p in optimal.get("parameterAssignments") or [])
        metrics = ", ".join(
            f"{m['name']}={m.get('latest')}" for m in (optimal.get("observation") or {}).get("metrics") or []
        )
        console.print(f"best trial {optimal.get('bestTrialName')}: {metrics} with {params}", markup=False)
