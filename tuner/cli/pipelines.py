"""`tuner pipelines compile|run`: compile a pipeline file to the IR or an Argo Workflow, or run it here.

`run` streams each task's output prefixed by its name (stdout), one progress line per task state change
and a final summary of the pipeline's groups and tasks (stderr). Exit codes: 0 the run succeeded, 1 it
failed, 2 the file, the pipeline or an argument is invalid.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

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
    token_option,
)
from tuner.cli.remote import server_option


def _parse_args(pairs: list[str]) -> dict[str, Any]:
    arguments: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            fail(f"--arg {pair!r}: write it as NAME=VALUE, e.g. --arg a=7")
        arguments[key.strip()] = value
    return arguments


def _trial_from_environment(store: Any) -> int | None:
    """The store id of the trial this run belongs to (TUNER_EXPERIMENT, TUNER_NAMESPACE, TUNER_TRIAL_NAME)."""
    import os

    from tuner.errors import NotFoundError

    experiment, trial = os.environ.get("TUNER_EXPERIMENT"), os.environ.get("TUNER_TRIAL_NAME")
    if not experiment or not trial:
        return None
    try:
        record = store.get_experiment(experiment, os.environ.get("TUNER_NAMESPACE", "default"))
        return int(store.get_trial_by_name(record.id, trial).id)
    except NotFoundError:
        return None


def _report(metrics: dict[str, float]) -> None:
    """Hand the run's numbers to the trial (the controller reads them as pushed metrics)."""
    import tuner.reporting

    if metrics:
        tuner.reporting.report_metrics(metrics)
    stderr_console().print(
        "  reported to the trial: " + (", ".join(f"{k}={v!r}" for k, v in metrics.items()) or "nothing"),
        markup=False,
    )


def register(app: typer.Typer) -> None:
    """Add the `pipelines` command group."""
    group = new_typer(name="pipelines", help="Compile pipelines (KFP-style) and run them on this machine.")

    @group.command("compile")
    def compile_command(
        file: Path = typer.Argument(..., help="A Python file defining @dsl.pipeline functions."),
        pipeline: str = typer.Option(
            None, "--pipeline", "-p", help="Which pipeline: function name or name=."
        ),
        output_file: Path = typer.Option(
            None,
            "--output-file",
            help="Write the package here (.yaml, .json, .zip, .tar.gz); default: stdout.",
        ),
        target: str = typer.Option(
            "ir", "--target", help="ir (this project's format, runnable) or argo (a Workflow)."
        ),
    ) -> None:
        """Compile a pipeline to the IR (runnable with `tuner pipelines run`) or to an Argo Workflow."""
        from pipelines.compiler.compiler import render
        from pipelines.compiler.loader import load_pipeline
        from pipelines.compiler.package import write_text_package

        if target not in ("ir", "argo"):
            fail(f"--target {target!r}: use ir or argo")
        spec = load_pipeline(file, pipeline)
        text = render(spec, target)  # type: ignore[arg-type]
        if output_file is None:
            sys.stdout.write(text)
            return
        write_text_package(text, output_file)
        stderr_console().print(
            f"wrote {output_file} ({target}, pipeline {spec.pipeline.display_name or spec.pipeline.name!r})",
            markup=False,
        )

    @group.command("run")
    def run_command(
        file: Path = typer.Argument(
            ..., help="A Python file (.py) or a compiled package (.yaml, .zip, .tar.gz)."
        ),
        pipeline: str = typer.Option(
            None, "--pipeline", "-p", help="Which pipeline: function name or name=."
        ),
        arg: list[str] = typer.Option([], "--arg", "-a", help="A pipeline argument NAME=VALUE (repeatable)."),
        parallelism: int = typer.Option(
            None, "--parallelism", min=1, help="Tasks running at once (default: CPU count)."
        ),
        no_cache: bool = typer.Option(
            False, "--no-cache", help="Run every task, reusing no earlier outputs."
        ),
        install_packages: bool = typer.Option(
            False, "--install-packages", help="Install packages_to_install into cached virtual environments."
        ),
        run_name: str = typer.Option(None, "--run-name", help="A name for this run."),
        task_timeout: float = typer.Option(
            None,
            "--task-timeout",
            min=0.001,
            help="Stop an attempt of any task without its own set_timeout after this many seconds "
            "(default: none, or TUNER_PIPELINES_TASK_TIMEOUT).",
        ),
        max_recursion_depth: int = typer.Option(
            None,
            "--max-recursion-depth",
            min=0,
            help="How deep a KFP v1 graph component may call itself before the run fails "
            "(default 100, or TUNER_PIPELINES_MAX_RECURSION_DEPTH).",
        ),
        report_metrics: bool = typer.Option(
            False,
            "--report-metrics",
            help="Run as a trial of an experiment: link the run to the trial named by TUNER_TRIAL_NAME and "
            "report its numeric outputs and logged metrics with tuner.report.",
        ),
        store: str = store_option(),
        server: str | None = server_option(),
        token: str | None = token_option(),
        experiment: str = typer.Option(
            None, "--experiment", help="With --server: the pipeline experiment to file the run under."
        ),
        no_wait: bool = typer.Option(
            False, "--no-wait", help="With --server: return once the run is submitted."
        ),
    ) -> None:
        """Run a pipeline on this machine, tasks in parallel, and print a summary; with --server, run it on
        that server (compiled here) and wait for it."""
        if server:
            from tuner.cli import remote

            remote.run_pipeline(
                server,
                file,
                pipeline,
                _parse_args(arg),
                run_name,
                no_cache,
                experiment,
                not no_wait,
                token=token,
            )
            return
        from pipelines.compiler.loader import load_pipeline
        from pipelines.runner.console import ConsoleObserver
        from pipelines.runner.local import LocalRunner, RunInterrupted, RunOptions
        from pipelines.runner.store_recorder import StoreRecorder
        from tuner.store import open_store

        arguments = _parse_args(arg)
        settings = settings_from(store)
        spec = load_pipeline(file, pipeline)
        recorder = StoreRecorder(open_store(settings=settings), owns_store=True)
        try:
            runner = LocalRunner(settings, recorder, observer=ConsoleObserver())
            options = RunOptions(
                parallelism=parallelism,
                enable_caching=not no_cache,
                install_packages=install_packages,
                run_name=run_name,
                trial_id=_trial_from_environment(recorder.store) if report_metrics else None,
            )
            if task_timeout is not None:
                options.task_timeout = task_timeout
            if max_recursion_depth is not None:
                options.max_recursion_depth = max_recursion_depth
            try:
                result = runner.run(spec, arguments, options)
            except RunInterrupted as exc:
                stored = recorder.store_run_id(exc.run_id) if exc.run_id else None
                stderr_console().print(
                    f"interrupted by {exc.signal_name}: the running tasks were stopped"
                    + (
                        f"; run {stored} is recorded as Cancelled (tuner pipelines runs show {stored})"
                        if stored
                        else ""
                    ),
                    markup=False,
                )
                raise typer.Exit(int(exc.code)) from None  # type: ignore[arg-type]
            if report_metrics and result.success():
                _report(result.metrics())
            stored = recorder.store_run_id(result.run_id)
            stderr_console().print(
                f"  recorded as run {stored}: tuner pipelines runs show {stored}", markup=False
            )
        finally:
            recorder.close()
        raise typer.Exit(int(ExitCode.OK if result.success() else ExitCode.FAILED))

    runs = new_typer(name="runs", help="Pipeline runs kept in the metadata store.")

    @runs.command("list")
    def runs_list(
        store: str = store_option(),
        output: OutputFormat = output_option(),
        server: str | None = server_option(),
        token: str | None = token_option(),
        experiment: str = typer.Option(
            None, "--experiment", help="With --server: only this experiment's runs."
        ),
    ) -> None:
        """List pipeline runs, oldest first."""
        if server:
            from tuner.cli import remote

            return remote.list_runs(server, output, experiment, token=token)
        from pipelines.runner.stored_runs import run_rows
        from tuner.store import open_store

        opened = open_store(settings=settings_from(store))
        try:
            rows = run_rows(opened)
        finally:
            opened.close()
        if output is not None:
            print_document(rows, output)
            return
        console = stdout_console()
        if not rows:
            console.print("no pipeline runs yet (tuner pipelines run FILE.py records one)", markup=False)
        for row in rows:
            tasks = ", ".join(f"{n} {s.lower()}" for s, n in row["tasks"].items())
            took = f"{row['seconds']:.2f}s" if row["seconds"] is not None else "-"
            note = f"  ({row['message']})" if row.get("message") and row["state"] != "Succeeded" else ""
            console.print(
                f"{row['id']:>5}  {row['state']:<10} {took:>8}  {row['name']}  [{row['pipeline']}]  {tasks}{note}",
                markup=False,
            )

    @runs.command("show")
    def runs_show(
        run_id: str = typer.Argument(
            ...,
            help="The run's id or name (from `tuner pipelines runs list`), or a short prefix or suffix of it.",
        ),
        store: str = store_option(),
        output: OutputFormat = output_option(),
        server: str | None = server_option(),
        token: str | None = token_option(),
    ) -> None:
        """Show a run as its pipeline's groups and tasks: states, outputs, log files."""
        if server:
            from tuner.cli import remote

            return remote.show_run(server, run_id, output, token=token)
        from pipelines.runner.stored_runs import run_detail, run_lines
        from tuner.errors import NotFoundError
        from tuner.lookups import find_run
        from tuner.store import open_store

        opened = open_store(settings=settings_from(store))
        try:
            found = find_run(opened, run_id).id
            if output is not None:
                print_document(run_detail(opened, found), output)
                return
            lines = run_lines(opened, found)
        except NotFoundError as exc:
            fail(str(exc))
        finally:
            opened.close()
        stdout_console().print("\n".join(lines), markup=False)

    group.add_typer(runs, name="runs")

    app.add_typer(group, name="pipelines")
