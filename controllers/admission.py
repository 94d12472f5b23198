"""What an Experiment file must pass before anything runs or is stored: the one checking path that
`tuner validate` and `tuner run` share, so that validate never says "ok" to a file run refuses.

Three layers, every problem of all of them reported at once and sorted into document order:

1. Katib's admission rules and shape checks (`tuner.spec`);
2. the algorithm's: its name, its settings and early stopping against the search space (the suggestion
   registry, `suggestions.check_experiment`), and the workload values Kubernetes would refuse
   (`controllers.workload_rules`: resource quantities, backoffLimit, activeDeadlineSeconds);
3. with a `LocalSite` only, what running on this machine needs (`controllers.local`): no cluster-only
   features, a findable and readable configMap template, a command to run, resources that fit here. That
   is what `tuner run` checks and `tuner validate --local` adds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import suggestions
from controllers.local import LocalContext, LocalTrialPlan
from controllers.resources import ResourcePool
from controllers.workload_rules import check_workload
from tuner.config import Settings
from tuner.errors import Problem
from tuner.spec import Experiment, ExtraCheck, load_experiment, load_experiments
from tuner.spec.paths import covers
from tuner.spec.validation import check_algorithm


def runs_root(settings: Settings) -> Path:
    """Where trials keep their files: one folder per namespace, experiment and trial."""
    return settings.data_dir / "runs"


@dataclass
class LocalSite:
    """This machine, for the checks that only matter when the experiment runs here."""

    experiment_dir: Path  # the experiment file's folder: configMap manifests and relative paths
    settings: Settings
    pool: ResourcePool = field(default_factory=ResourcePool)

    def context(self, experiment: Experiment) -> LocalContext:
        return LocalContext(
            experiment_dir=self.experiment_dir,
            runs_dir=runs_root(self.settings) / experiment.namespace / experiment.name,
            store_url=self.settings.store_url,
        )

    def check(self, experiment: Experiment) -> list[Problem]:
        return LocalTrialPlan.check(experiment, self.context(experiment), self.pool)


def check_algorithm_settings(experiment: Experiment) -> list[Problem]:
    """The suggestion registry's problems, less those `tuner.spec` reports already (a missing algorithm
    name, a setting named twice), so that each problem is said once."""
    spec = experiment.spec
    said = (
        [p.path for p in check_algorithm(spec)]
        if "algorithm" in spec.model_fields_set
        else ["spec.algorithm"]
    )
    return [p for p in suggestions.check_experiment(experiment) if not any(covers(s, p.path) for s in said)]


def experiment_checks(site: LocalSite | None = None) -> list[ExtraCheck]:
    """The checks beyond `tuner.spec`'s own, for `load_experiment(..., extra_checks=...)`."""
    checks: list[ExtraCheck] = [check_algorithm_settings, check_workload]
    if site is not None:
        checks.append(site.check)
    return checks


def check_file(path: Path, site: LocalSite | None = None) -> list[Experiment]:
    """The experiments of a file, checked; with `site`, exactly as `tuner run` checks it (one document).

    Raises:
        SpecError: every problem found, named by field path, with the value and the fix.
    """
    checks = experiment_checks(site)
    if site is None:
        return load_experiments(path, source_name=str(path), extra_checks=checks)
    return [load_experiment(path, source_name=str(path), extra_checks=checks)]


def local_site(path: Path, settings: Settings, pool: ResourcePool | None = None) -> LocalSite:
    """The site for an experiment file run on this machine."""
    return LocalSite(path.resolve().parent, settings, pool or ResourcePool())


def check_document(
    document: Mapping[str, Any], site: LocalSite, source_name: str = "<request>"
) -> Experiment:
    """One parsed Experiment document checked exactly as `tuner run` checks a file (the REST server's
    submissions): Katib's rules, the algorithm's, the workload's and what cannot run on this machine.

    Raises:
        SpecError: every problem found, named by field path.
    """
    return load_experiment(document, source_name=source_name, extra_checks=experiment_checks(site))
