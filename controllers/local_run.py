"""Running a Katib experiment file on this machine: the glue between `tuner run` and the controller.

`load_local` reads and checks the file as `tuner validate --local` does (`controllers.admission`: Katib's
rules, the algorithm's, the workload's, and what cannot run here), before anything is stored. `run_local`
then drives it to its end with process trials, the in-process suggestion algorithm and the store. The CLI
adds only presentation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import suggestions
from controllers.admission import check_file, local_site
from controllers.admission import runs_root as runs_root  # re-exported: `tuner experiments delete` uses it
from controllers.backends import ProcessBackend
from controllers.local import LocalTrialPlan
from controllers.resources import ResourcePool
from controllers.run import ExperimentRunner, Outcome
from controllers.suggest import in_process, remote
from controllers.supervisor import Settled
from suggestions.client import SuggestionClient
from tuner.config import Settings
from tuner.space import SearchSpace
from tuner.spec import Experiment
from tuner.spec.collector import CollectorKind
from tuner.store import Store


@dataclass
class LocalExperiment:
    """A validated experiment file and how its trials run here."""

    experiment: Experiment
    plan: LocalTrialPlan
    pool: ResourcePool


def load_local(path: Path, settings: Settings, pool: ResourcePool | None = None) -> LocalExperiment:
    """Read, default and check an experiment file as `tuner run` does (`controllers.admission`).

    Raises:
        SpecError: every problem, Katib's rules, the algorithm's, the workload's and the local refusals alike.
    """
    site = local_site(path, settings, pool)
    (experiment,) = check_file(path, site)
    return LocalExperiment(experiment, LocalTrialPlan(experiment, site.context(experiment)), site.pool)


def make_runner(
    store: Store,
    local: LocalExperiment,
    *,
    on_settled: Callable[[Settled], None] | None = None,
    on_pass: Callable[[ExperimentRunner], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    poll_interval: float = 0.2,
    suggestion_service: SuggestionClient | None = None,
) -> ExperimentRunner:
    """The runner of a local experiment (call `.run()`); with `suggestion_service`, suggestions come from
    that HTTP service (`tuner run --suggestion-service URL`) instead of this process."""
    experiment = local.experiment
    space = SearchSpace.from_parameters(experiment.spec.parameters or [])
    if suggestion_service is not None:
        suggest = remote(experiment, suggestion_service, space)
    else:
        suggest = in_process(
            experiment, suggestions.get_suggester(experiment.spec.algorithm_name or ""), space
        )
    return ExperimentRunner(
        store,
        experiment,
        ProcessBackend(local.plan),
        suggest,
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
