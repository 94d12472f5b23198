"""`tuner validate FILE...`: check experiment files without running anything.

Prints one `FILE: ok (...)` line per valid experiment, or one `FILE: path: problem` line per problem, and
exits 0 when every file is valid, 2 otherwise. The checks are `controllers.admission`'s, the same
`tuner run` makes; `--local` adds the ones that matter only when running on this machine. With `--show`
or `-o yaml|json` the defaulted documents go to stdout alone (the report lines then go to stderr), so
`tuner validate x.yaml --show > full.yaml` works.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.text import Text

from tuner.cli._common import (
    ExitCode,
    OutputFormat,
    output_option,
    settings_from,
    stderr_console,
    stdout_console,
)
from tuner.errors import SpecError

if TYPE_CHECKING:  # the spec models cost ~0.1 s to import: loaded when a command runs, not for every command
    from tuner.spec import Experiment

HELP = """Check Experiment files (Katib v1beta1 YAML or JSON) and report every problem.

Katib's defaults are applied first, as its admission webhook does. Checked always: Katib's rules, the
algorithm and early-stopping settings against the search space, and workload values a cluster would
refuse (resource quantities, backoffLimit, activeDeadlineSeconds). With --local, also what `tuner run`
needs on this machine: exactly the checks `tuner run` makes before it stores anything. Exit code 0 when
every file is valid, 2 when any file is invalid or unreadable."""


def register(app: typer.Typer) -> None:
    """Add `tuner validate` to the root command."""
    app.command("validate", help=HELP, no_args_is_help=True)(validate)


def validate(
    files: list[Path] = typer.Argument(
        ...,
        metavar="FILE",
        help="Experiment files; one file may hold several documents separated by ---.",
        show_default=False,
    ),
    show: bool = typer.Option(False, "--show", help="Print the defaulted experiments as YAML on stdout."),
    output: OutputFormat | None = output_option(),
    local: bool = typer.Option(
        False,
        "--local",
        help="Also check what running here needs, exactly as `tuner run` does: one experiment per file, no "
        "cluster-only features (nasConfig, TensorFlowEvent/Custom/PrometheusMetric collectors), a configMap "
        "template next to the file, a `command` to run, resources this machine has.",
    ),
) -> None:
    from controllers.admission import check_file, local_site
    from controllers.resources import ResourcePool

    fmt = output or (OutputFormat.yaml if show else None)
    report = stderr_console() if fmt else stdout_console()
    settings = settings_from() if local else None
    pool = ResourcePool() if local else None  # this machine's CPUs and GPUs, looked up once
    valid: list[Experiment] = []
    ok = True
    for file in files:
        try:
            experiments = check_file(file, local_site(file, settings, pool) if settings else None)
        except SpecError as exc:
            ok = False
            for problem in exc.problems:
                report.print(Text(f"{file}: {problem}", style="red"), soft_wrap=True)
            continue
        for experiment in experiments:
            report.print(Text(f"{file}: ok ({summary(experiment)})", style="green"), soft_wrap=True)
        valid += experiments
    if not ok:
        raise typer.Exit(int(ExitCode.INVALID))
    if fmt:
        _print_documents(valid, fmt)


def summary(experiment: Experiment) -> str:
    """One line saying what the experiment will do."""
    spec = experiment.spec
    if spec.nas_config is not None:
        space = f"architecture search over {len(spec.nas_config.operations or [])} operations"
    else:
        count = len(spec.parameters or [])
        space = f"{count} parameter{'s' if count != 1 else ''}"
    objective = spec.objective
    goal = f" (goal {objective.goal:g})" if objective.goal is not None else ""
    direction = objective.type.value if objective.type else "?"
    most = spec.max_trial_count
    limit = f"up to {most} trial{'s' if most != 1 else ''}" if most else "no trial limit"
    return (
        f"experiment {experiment.name}: {space}, algorithm {spec.algorithm_name}, "
        f"{direction} {objective.objective_metric_name}{goal}, {limit}, {spec.parallel_trial_count} in parallel"
    )


def _print_documents(experiments: list[Experiment], fmt: OutputFormat) -> None:
    from tuner.spec import dump_document

    documents = [e.to_dict() for e in experiments]
    if fmt is OutputFormat.json:
        text = dump_document(documents[0] if len(documents) == 1 else documents, "json")
    else:
        text = "---\n".join(dump_document(d, "yaml") for d in documents)
    typer.echo(text, nl=False)
