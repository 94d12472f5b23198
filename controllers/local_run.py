"""Running a Katib experiment file on this machine: the glue between `tuner run` and the controller.

`load_local` reads and validates the file (Katib's rules and the suggestion algorithm's own checks) and
refuses, before anything is stored, what cannot run here. `run_local` then drives it to its end with
process trials, the in-process suggestion algorithm and the store. The CLI adds only presentation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import suggestions
from controllers.backends import ProcessBackend
from controllers.local import LocalContext, LocalTrialPlan
from controllers.resources import ResourcePool
from controllers.run import ExperimentRunner, Outcome
from controllers.suggest import in_process
from controllers.supervisor import Settled
from tuner.config import Settings
from tuner.errors import SpecError
from tuner.space import SearchSpace
from tuner.spec import Experiment, load_experiment
from tuner.spec.collector import CollectorKind
from tuner.store import Store


def runs_root(settings: Settings) -> Path:
    """Where trials keep their files: one folder per namespace, experiment and trial."""
    return settings.data_dir / "runs"


@dataclass
class LocalExperiment:
    """A validated experiment file and how its trials run here."""

    experiment: Experiment
    plan: LocalTrialPlan
    pool: ResourcePool


def load_local(path: Path, settings: Settings, pool: ResourcePool | None = None) -> LocalExperiment:
    """Read, default and validate an experiment file, and check it can run on this machine.

    Raises:
        SpecError: every problem, Katib's rules, the algorithm's and the local refusals alike.
    """
    experiment = load_experiment(path, source_name=str(path), extra_checks=[suggestions.check_experiment])
    context = LocalContext(
        experiment_dir=path.resolve().parent,
        runs_dir=runs_root(settings) / experiment.namespace / experiment.name,
        store_url=settings.store_url,
    )
    pool = pool or ResourcePool()
    problems = LocalTrialPlan.check(experiment, context, pool)
    if problems:
        raise SpecError(problems, source=str(path))
    return LocalExperiment(experiment, LocalTrialPlan(experiment, context), pool)


def make_runner(
    store: Store,
    local: LocalExperiment,
    *,
    on_settled: Callable[[Settled], None] | None = None,
    on_pass: Callable[[ExperimentRunner], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    poll_interval: float = 0.2,
) -> ExperimentRunner:
    """The runner of a local experiment (call `.run()`)."""
    experiment = local.experiment
    space = SearchSpace.from_parameters(experiment.spec.parameters or [])
    suggester = suggestions.get_suggester(experiment.spec.algorithm_name or "")
    return ExperimentRunner(
        store,
        experiment,
        ProcessBackend(local.plan),
        in_process(experiment, suggester, space),
        retries=local.plan.retries,
        collect_metrics=experiment.spec.metrics_collector_kind != CollectorKind.NONE,
        pool=local.pool,
        on_settled=on_settled,
        on_pass=on_pass,
        should_stop=should_stop,
        poll_interval=poll_interval,
    )


def run_local(store: Store, local: LocalExperiment, **options: object) -> Outcome:
    """Run a local experiment to its end (options as for `make_runner`)."""
    return make_runner(store, local, **options).run()  # type: ignore[arg-type]
