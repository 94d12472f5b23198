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
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from tuner.cli._common import (
    ExitCode,
    OutputFormat,
    fail,
    output_option,
    print_document,
    settings_from,
    stderr_console,
    stdout_console,
    store_option,
)
from tuner.states import ExperimentState, TrialState

if TYPE_CHECKING:  # the spec models cost ~0.1 s to import; read-only commands never need them
    from tuner.spec import Experiment

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
    suggestion_service: str | None = typer.Option(
        None,
        "--suggestion-service",
        envvar="TUNER_SUGGESTION_SERVICE",
        help="URL of `tuner suggestion-server` to ask for suggestions (default: in this process).",
    ),
) -> None:
    console = stderr_console()
    if suggestion_service is not None and not suggestion_service.startswith(("http://", "https://")):
        fail(
            f"--suggestion-service: {suggestion_service!r} is not an http(s) URL; "
            "e.g. http://127.0.0.1:6789 (start one with `tuner suggestion-server`)"
        )
    settings = settings_from(store=store)
    _answer_if_finished(file, settings.store_url, output, console)

    from controllers.local_run import load_local, make_runner
    from tuner.store import open_store

    local = load_local(file, settings)
    experiment = local.experiment
    if not quiet:
        for note in local.plan.notes():
            console.print(f"note: {note}", markup=False)
    db = open_store(settings.store_url)
    try:
        progress = Progress(experiment, console, quiet)
        stop = _StopSignal()
        from suggestions.client import SuggestionClient

        service = SuggestionClient(suggestion_service) if suggestion_service else None
        runner = make_runner(
            db,
            local,
            on_settled=progress.settled,
            on_pass=progress.update,
            should_stop=stop.requested,
            suggestion_service=service,
        )
        progress.runner = runner
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


def _answer_if_finished(file: Path, store_url: str, output: OutputFormat | None, console: Console) -> None:
    """A finished experiment whose file is unchanged is reported at once (exit 0 or 1), before the trial
    plan and the suggestion algorithm are loaded (importing an algorithm's libraries costs seconds).
    Returns otherwise: the runner then decides (run, resume, restart or refuse a changed spec)."""
    from tuner.errors import NotFoundError, SpecError
    from tuner.spec import load_experiment
    from tuner.store import open_store, store_exists

    try:
        experiment = load_experiment(file, source_name=str(file))
    except SpecError:
        return  # the full checks report every problem at once
    if not store_exists(store_url):
        return  # nothing stored yet: the full checks run before a store is created
    db = open_store(store_url)
    try:
        try:
            record = db.get_experiment(experiment.name, experiment.namespace)
        except NotFoundError:
            return
        same_spec = (record.spec.get("spec") or {}) == (experiment.to_dict().get("spec") or {})
        if not record.state.is_finished or not same_spec:
            return  # to run, resume, restart or refuse: the runner decides, with everything loaded
        console.print(_finished_message(experiment, record.state), markup=False)
        if output is not None:
            from tuner.views import experiment_document

            print_document(experiment_document(record), output)
        else:
            print_summary(db, record, stdout_console())
    finally:
        db.close()
    raise typer.Exit(int(ExitCode.OK if record.state == ExperimentState.SUCCEEDED else ExitCode.FAILED))


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
    """One line per finished trial (its objective value, the best so far, elapsed time and ETA from the
    trial budget; why it failed), and a live summary on a terminal. Values come from the controller's view."""

    def __init__(self, experiment: Experiment, console: Console, quiet: bool) -> None:
        from tuner.progress import TrialLines

        self.experiment = experiment
        self.console = console
        self.quiet = quiet
        self.metric = experiment.spec.objective.objective_metric_name or ""
        self.lines = TrialLines(self.metric, experiment.spec.max_trial_count)
        self.runner: Any = None
        self.live: Live | None = None
        self._last = 0.0
        self._service_down = False
        self._text = Text("starting")

    def __enter__(self) -> Progress:
        if not self.quiet and self.console.is_terminal:
            self.live = Live(self._text, console=self.console, refresh_per_second=4, transient=True)
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)

    def _view(self) -> Any:
        reconciler = getattr(self.runner, "reconciler", None)
        return reconciler.view if reconciler is not None else None

    def settled(self, settled: Any) -> None:
        if self.quiet:
            return
        for line in self.lines.line(settled, self._view()):
            self.console.print(line, soft_wrap=True)

    def update(self, runner: Any) -> None:
        self._note_suggestion_service(runner)
        if self.live is None or time.monotonic() - self._last < 0.25:
            return
        from tuner.progress import number_text

        self._last = time.monotonic()
        view = runner.reconciler.view
        failed = view.failed
        done = view.count(
            (
                TrialState.SUCCEEDED,
                TrialState.EARLY_STOPPED,
                TrialState.FAILED,
                TrialState.METRICS_UNAVAILABLE,
            )
        )
        text = Text(
            f"{self.experiment.name}: {done - failed} succeeded, {view.active} running, {failed} failed"
            f" of {self.experiment.spec.max_trial_count or '∞'}"
        )
        best = view.best
        if best is not None:
            text.append(f"  best {self.metric}={number_text(best[1])}", style="bold")
        text.append(f"  {self.lines.timing(done)}", style="dim")
        self.live.update(text)

    def _note_suggestion_service(self, runner: Any) -> None:
        """Say once when `--suggestion-service` stops answering (trials wait) and once when it is back."""
        reconciler = getattr(runner, "reconciler", None)
        problem = getattr(reconciler, "suggestion_unavailable", None)
        if self.quiet or bool(problem) == self._service_down:
            return
        self._service_down = bool(problem)
        if problem:
            self.console.print(f"note: new trials wait: {problem}", markup=False)
        else:
            self.console.print("note: the suggestion service answers again", markup=False)


SUMMARY_ROWS = 20
"""Trials the final table shows at most (the best ones); the rest are counted, not printed."""


def print_summary(db: Any, record: Any, console: Console, limit: int = SUMMARY_ROWS) -> None:
    """The best `limit` trials sorted by the objective (best first, by the experiment's metric strategy,
    labelled in the header), how many are hidden, the end condition and the best trial.

    The store sorts and cuts, so this reads `limit` trials whatever the experiment's size.
    """
    from tuner.progress import short_value
    from tuner.views import format_value, objective_of, status_value_text

    objective = objective_of(record)
    counts = db.count_trials(record.id)
    total = sum(counts.values())
    rows = (
        db.compare_trials(record.id, [objective.metric], sort_by=objective.order, limit=limit)
        if limit
        else []
    )
    if rows:
        table = Table(title=f"experiment {record.name}: {record.state.value}", show_lines=False)
        table.add_column("trial")
        table.add_column("state")
        names = [a.name for a in rows[0].trial.assignments]
        for name in names:
            table.add_column(name)
        table.add_column(objective.label, justify="right")
        for row in rows:
            table.add_row(
                row.trial.name,
                row.trial.state.value,
                *[short_value(a.value, 6) for a in row.trial.assignments],
                format_value(objective.value(row.metrics)),
            )
        console.print(table)
    else:
        console.print(f"experiment {record.name}: {record.state.value}", markup=False)
    by_state = ", ".join(f"{n} {state.value}" for state, n in sorted(counts.items(), key=lambda c: -c[1]))
    line = f"{total} trial{'s' if total != 1 else ''}" + (f" ({by_state})" if by_state else "")
    hidden = total - len(rows)
    if hidden > 0 and rows:
        namespace = f" -n {record.namespace}" if record.namespace != "default" else ""
        line += (
            f"; best {len(rows)} shown by {objective.label}, {hidden} more with "
            f"`tuner trials list {record.name}{namespace} --offset {len(rows)}`"
        )
    console.print(line, markup=False)
    status = record.status or {}
    for condition in status.get("conditions") or []:
        if condition.get("type") == record.state.value:
            console.print(
                f"{record.state.value}: {condition.get('message')} ({condition.get('reason')})", markup=False
            )
    optimal = status.get("currentOptimalTrial")
    if optimal and optimal.get("bestTrialName"):
        params = ", ".join(
            f"{p['name']}={short_value(str(p['value']), 6)}"
            for p in optimal.get("parameterAssignments") or []
        )
        metrics = (optimal.get("observation") or {}).get("metrics") or []
        shown = []
        for m in metrics:
            strategy = objective.strategy_of(str(m.get("name")))
            shown.append(f"{m.get('name')} ({strategy.value})={status_value_text(m.get(strategy.value))}")
        console.print(
            f"best trial {optimal.get('bestTrialName')}: {', '.join(shown)} with {params}", markup=False
        )
    from tuner.cli.pareto import print_pareto_front  # several objectives (tuner's extension)

    print_pareto_front({"spec": record.spec.get("spec") or {}, "status": status}, console)
