"""`--server URL` (or TUNER_SERVER) on `tuner experiments|trials|pipelines ...`: the same commands, answered
by a running `tuner server` through `tuner.Client(host=...)` and `pipelines.kfp.Client(host=...)` instead of
the store. `-o json|yaml` prints the same Katib documents the local commands print (the server builds them
with the same views); tables show the main columns.
"""

from __future__ import annotations

import csv
import sys
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
    print_document,
    print_list,
    stderr_console,
    stdout_console,
)

SERVER_ENV = "TUNER_SERVER"


def server_option() -> Any:
    """The `--server URL` option: talk to a running `tuner server` instead of the store."""
    return typer.Option(
        None,
        "--server",
        envvar=SERVER_ENV,
        help=f"A running tuner server's URL: ask it instead of the store. Env: {SERVER_ENV}.",
        show_default=False,
    )


@contextmanager
def _client(server: str, token: str | None) -> Iterator[Any]:
    from tuner.client import Client
    from tuner.errors import NotFoundError

    client = Client(host=server, token=token)
    try:
        yield client
    except NotFoundError as exc:
        fail(str(exc.args[0]) if exc.args else str(exc), ExitCode.INVALID)
    finally:
        client.close()


def _state(document: dict[str, Any]) -> str:
    conditions = (document.get("status") or {}).get("conditions") or []
    return str(conditions[-1]["type"]) if conditions else ""


def _objective_value(document: dict[str, Any]) -> str:
    status = document.get("status") or {}
    optimal = status.get("currentOptimalTrial") or {}
    metric = ((document.get("spec") or {}).get("objective") or {}).get("objectiveMetricName")
    for item in (optimal.get("observation") or {}).get("metrics") or []:
        if item.get("name") == metric:
            return f"{metric} {item.get('latest')}"
    return ""


# --- experiments -------------------------------------------------------------------------------------------


def list_experiments(
    server: str, namespace: str | None, output: OutputFormat | None, token: str | None = None
) -> None:
    with _client(server, token) as client:
        documents = client._remote.items("/api/v1/experiments", {"namespace": namespace})
    if output is not None:
        print_list(documents, output)
        return
    table = Table(show_lines=False)
    for column in ("namespace", "name", "state", "trials", "best trial", "objective", "created"):
        table.add_column(column)
    for d in documents:
        status = d.get("status") or {}
        table.add_row(
            d["metadata"]["namespace"],
            d["metadata"]["name"],
            _state(d),
            str(status.get("trials", 0)),
            str((status.get("currentOptimalTrial") or {}).get("bestTrialName") or ""),
            _objective_value(d),
            str(d["metadata"].get("creationTimestamp") or ""),
        )
    stdout_console().print(table)


def show_experiment(
    server: str, name: str, namespace: str, output: OutputFormat | None, token: str | None = None
) -> None:
    with _client(server, token) as client:
        document = client.get_experiment(name, namespace)
        suggestion = client.get_suggestion(name, namespace)
    if output is not None:
        print_document(document, output)
        return
    status = document.get("status") or {}
    optimal = status.get("currentOptimalTrial") or {}
    lines = [
        f"experiment {namespace}/{name}: {_state(document)}",
        f"  trials: {status.get('trials', 0)} (succeeded {status.get('trialsSucceeded', 0)}, failed "
        f"{status.get('trialsFailed', 0)}, running {status.get('trialsRunning', 0)})",
        f"  algorithm: {suggestion['spec']['algorithm']['algorithmName']} (suggestion "
        f"{suggestion['status']['state']}, {suggestion['spec']['requests']} requested)",
    ]
    if optimal.get("bestTrialName"):
        params = ", ".join(f"{p['name']}={p['value']}" for p in optimal.get("parameterAssignments") or [])
        lines.append(f"  best trial: {optimal['bestTrialName']} ({_objective_value(document)}) {params}")
    for condition in status.get("conditions") or []:
        lines.append(f"  {condition.get('type')}: {condition.get('reason')} {condition.get('message') or ''}")
    stdout_console().print("\n".join(lines), markup=False)
    from tuner.cli.pareto import print_pareto_front  # several objectives (tuner's extension)

    print_pareto_front(document, stdout_console())


def stop_experiment(server: str, name: str, namespace: str, token: str | None = None) -> None:
    with _client(server, token) as client:
        document = client.stop_experiment(name, namespace)
    stderr_console().print(f"stopped {name} ({_state(document)}) on {server}", markup=False)


def delete_experiment(server: str, name: str, namespace: str, yes: bool, token: str | None = None) -> None:
    if not yes:
        if not sys.stdin.isatty():
            fail("deleting needs confirmation: pass --yes")
        typer.confirm(f"Delete experiment {name} on {server} with all its trials?", abort=True)
    with _client(server, token) as client:
        client.delete_experiment(name, namespace)
    stderr_console().print(f"deleted experiment {name} on {server}", markup=False)


# --- trials ------------------------------------------------------------------------------------------------


def list_trials(
    server: str,
    experiment: str,
    namespace: str,
    output: str | None,
    limit: int | None,
    offset: int,
    states: list[str],
    token: str | None = None,
) -> None:
    with _client(server, token) as client:
        params: dict[str, Any] = {"state": states} if states else {}
        trials = client._remote.items(f"/api/v1/experiments/{namespace}/{experiment}/trials", params)
    shown = trials[offset : offset + limit] if limit is not None else trials[offset:]
    if output in ("json", "yaml"):
        print_list(shown, OutputFormat(output))
        return
    rows = []
    for trial in shown:
        row = {"name": trial["metadata"]["name"], "state": _state(trial)}
        for p in trial["spec"].get("parameterAssignments") or []:
            row[f"params_{p['name']}"] = p["value"]
        for m in ((trial.get("status") or {}).get("observation") or {}).get("metrics") or []:
            row[m["name"]] = m.get("latest")
        rows.append(row)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    if output == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
        return
    table = Table(show_lines=False)
    for column in columns:
        table.add_column(column)
    for row in rows[:20] if limit is None else rows:
        table.add_row(*(str(row.get(c, "")) for c in columns))
    stdout_console().print(table)
    stderr_console().print(f"{len(trials)} trial(s) of {experiment} on {server}", markup=False)


def _experiment_of(trial: str) -> str:
    """Trial names are `<experiment>-<suffix>`; the server finds trials within their experiment."""
    experiment, dash, _suffix = trial.rpartition("-")
    if not dash or not experiment:
        fail(f"{trial!r} is not a full trial name (<experiment>-<suffix>); with --server give the full name")
    return experiment


def show_trial(
    server: str, trial: str, namespace: str | None, output: OutputFormat | None, token: str | None = None
) -> None:
    with _client(server, token) as client:
        document = client.get_trial(trial, _experiment_of(trial), namespace)
    if output is not None:
        print_document(document, output)
        return
    lines = [f"trial {trial}: {_state(document)}"]
    lines.append(
        "  parameters: "
        + ", ".join(f"{p['name']}={p['value']}" for p in document["spec"]["parameterAssignments"])
    )
    for m in ((document.get("status") or {}).get("observation") or {}).get("metrics") or []:
        lines.append(f"  {m['name']}: latest {m.get('latest')} (min {m.get('min')}, max {m.get('max')})")
    stdout_console().print("\n".join(lines), markup=False)


def trial_logs(
    server: str, trial: str, namespace: str | None, follow: bool, token: str | None = None
) -> None:
    with _client(server, token) as client:
        for piece in client.trial_logs(trial, _experiment_of(trial), namespace, follow=follow):
            sys.stdout.write(piece)
            sys.stdout.flush()


# --- pipelines ---------------------------------------------------------------------------------------------


@contextmanager
def _kfp(server: str, token: str | None) -> Iterator[Any]:
    from pipelines.runner.remote import RemoteClient
    from tuner.errors import NotFoundError

    client = RemoteClient(server, token=token)
    try:
        yield client
    except NotFoundError as exc:
        fail(str(exc.args[0]) if exc.args else str(exc), ExitCode.INVALID)
    finally:
        client.close()


def run_pipeline(
    server: str,
    file: Path,
    pipeline: str | None,
    arguments: dict[str, Any],
    run_name: str | None,
    no_cache: bool,
    experiment: str | None,
    wait: bool,
    token: str | None = None,
) -> None:
    from pipelines.compiler.ir import dump
    from pipelines.compiler.loader import load_pipeline

    spec = load_pipeline(file, pipeline)
    with _kfp(server, token) as client:
        run = client._create_run(
            {"pipelineSpec": dump(spec)}, arguments, run_name, experiment, None, not no_cache
        )
        stderr_console().print(
            f"submitted run {run.id} ({run.name}) to {server}: tuner pipelines runs show {run.id} --server {server}",
            markup=False,
        )
        if not wait:
            return
        detail = client.wait_for_run_completion(run.id)
    stderr_console().print(
        f"run {run.id}: {detail.run.status}" + (f" ({detail.run.error})" if detail.run.error else ""),
        markup=False,
    )
    raise typer.Exit(int(ExitCode.OK if detail.run.status == "Succeeded" else ExitCode.FAILED))


def list_runs(
    server: str, output: OutputFormat | None, experiment: str | None = None, token: str | None = None
) -> None:
    with _kfp(server, token) as client:
        runs = []
        token = ""
        while True:
            page = client.list_runs(page_token=token, page_size=500, experiment_name=experiment)
            runs += page.runs
            token = page.next_page_token
            if not token:
                break
    if output is not None:
        print_document([r.document for r in runs], output)
        return
    console = stdout_console()
    if not runs:
        console.print(f"no pipeline runs on {server}", markup=False)
    for run in runs:
        took = run.document.get("durationSeconds")
        took_text = f"{took:.2f}s" if isinstance(took, (int, float)) else "-"
        console.print(
            f"{run.id:>5}  {run.status:<10} {took_text:>8}  {run.name}  [{run.pipeline_name}]  "
            f"experiment {run.experiment_name}",
            markup=False,
        )


def show_run(server: str, run_id: str, output: OutputFormat | None, token: str | None = None) -> None:
    with _kfp(server, token) as client:
        detail = client.get_run(run_id)
    document = detail.run.document
    if output is not None:
        print_document(document, output)
        return
    lines = [
        f"run {document['id']} {document['name']!r} of {(document.get('pipeline') or {}).get('name')}: "
        f"{document['state']}" + (f" ({document['message']})" if document.get("message") else "")
    ]
    for task in document.get("tasks") or []:
        took = task.get("durationSeconds")
        outputs = ", ".join(
            f"{k}={v}" for k, v in (task.get("outputs") or {}).items() if not isinstance(v, dict)
        )
        lines.append(
            f"  {task['name']}  {task['state']}"
            + (f"  {took:.2f}s" if isinstance(took, (int, float)) else "")
            + (f"  {outputs}" if outputs else "")
            + (f"  {task['message']}" if task.get("message") else "")
        )
    for edge in document.get("edges") or []:
        lines.append(f"  {edge['from']} -> {edge['to']} ({edge['kind']})")
    stdout_console().print("\n".join(lines), markup=False)
