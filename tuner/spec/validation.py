"""Experiment validation: Katib's admission rules, reporting every problem at once.

`validate_experiment` is the one entry point; it runs the rule groups below on an `Experiment` (normally
already defaulted, as Katib validates after its defaulting webhook) and then any `extra_checks` the caller
passes. Those are the hook for what only the suggestion registry knows: whether an algorithm exists, its
settings, the grid size. The rules themselves live in small modules, one per part of the spec.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from tuner.errors import Problem
from tuner.spec.collector_rules import check_metrics_collector
from tuner.spec.defaults import MAX_NAME_LENGTH
from tuner.spec.early_stopping_rules import check_early_stopping
from tuner.spec.experiment import API_VERSIONS, Experiment, ExperimentSpec
from tuner.spec.objective_rules import check_objectives
from tuner.spec.parameter_rules import check_parameters
from tuner.spec.template_rules import check_trial_template

ExtraCheck = Callable[[Experiment], Iterable[Problem]]
"""An additional rule: takes the (defaulted) experiment, yields its problems. The suggestion registry
provides these for algorithm names, settings and grid sizes."""

_NAME = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def validate_experiment(
    experiment: Experiment,
    *,
    extra_checks: Sequence[ExtraCheck] = (),
    config_map_template: dict[str, Any] | None = None,
) -> list[Problem]:
    """Every problem of `experiment`, part by part in Katib's order; an empty list means valid.

    `config_map_template` is the workload the experiment's `trialTemplate.configMap` names, when the caller
    could read it: it is then checked as an inline trialSpec is (as Katib's webhook does once it fetched it).
    `load_experiment` sorts the problems into document order; this function has only the model to go by.
    """
    problems = check_document(experiment)
    spec = experiment.spec
    if "spec" not in experiment.model_fields_set:
        return [
            *problems,
            Problem("spec", "required: the experiment's objective, algorithm, parameters and trialTemplate"),
        ]
    problems += check_counts(spec)
    problems += check_objective(spec)
    problems += check_objectives(experiment)  # several objectives: tuner's extension
    problems += check_algorithm(spec)
    problems += check_early_stopping(spec.early_stopping)
    problems += check_search_space(spec)
    problems += check_trial_template(spec, config_map_template)
    problems += check_metrics_collector(spec.metrics_collector_spec)
    for check in extra_checks:
        problems += list(check(experiment))
    return problems


def check_document(experiment: Experiment) -> list[Problem]:
    """apiVersion, kind and the metadata Katib checks (name and namespace)."""
    problems: list[Problem] = []
    if experiment.api_version not in API_VERSIONS:
        problems.append(
            Problem(
                "apiVersion", f"'{experiment.api_version}' is not supported; use {' or '.join(API_VERSIONS)}"
            )
        )
    if experiment.kind != "Experiment":
        problems.append(Problem("kind", f"'{experiment.kind}' is not supported here; expected Experiment"))
    name = experiment.metadata.name
    if not name:
        problems.append(
            Problem("metadata.name", "required: the experiment's name (lower-case letters, digits and '-')")
        )
    elif not _NAME.fullmatch(name):
        problems.append(
            Problem(
                "metadata.name",
                f"'{name}' is not a valid name: use lower-case letters, digits and '-', "
                "starting with a letter and ending with a letter or digit (e.g. 'my-experiment')",
            )
        )
    elif len(name) > MAX_NAME_LENGTH:
        problems.append(
            Problem(
                "metadata.name", f"'{name}' has {len(name)} characters; at most {MAX_NAME_LENGTH} are allowed"
            )
        )
    namespace = experiment.metadata.namespace
    if namespace is not None and not (_NAMESPACE.fullmatch(namespace) and len(namespace) <= 63):
        problems.append(
            Problem(
                "metadata.namespace",
                f"'{namespace}' is not a valid namespace: lower-case letters, digits and '-', at most 63",
            )
        )
    return problems


def check_counts(spec: ExperimentSpec) -> list[Problem]:
    """parallelTrialCount, maxTrialCount and maxFailedTrialCount, alone and against each other."""
    problems: list[Problem] = []
    parallel, most, failed = spec.parallel_trial_count, spec.max_trial_count, spec.max_failed_trial_count
    if parallel is not None and parallel <= 0:
        problems.append(Problem("spec.parallelTrialCount", f"must be greater than 0, got {parallel}"))
    elif parallel is not None and most is not None and most > 0 and parallel > most:
        problems.append(
            Problem("spec.parallelTrialCount", f"{parallel} must not exceed spec.maxTrialCount ({most})")
        )
    if most is not None and most <= 0:
        problems.append(Problem("spec.maxTrialCount", f"must be greater than 0, got {most}"))
    if failed is not None and failed < 0:
        problems.append(Problem("spec.maxFailedTrialCount", f"must not be negative, got {failed}"))
    elif failed is not None and most is not None and most > 0 and failed > most:
        problems.append(
            Problem("spec.maxFailedTrialCount", f"{failed} must not exceed spec.maxTrialCount ({most})")
        )
    return problems


def check_objective(spec: ExperimentSpec) -> list[Problem]:
    """The objective: a direction, a named metric not repeated among the additional ones, sane strategies."""
    at = "spec.objective"
    if "objective" not in spec.model_fields_set:
        return [
            Problem(at, "required: the metric to optimize (objectiveMetricName) and its direction (type)")
        ]
    objective = spec.objective
    problems: list[Problem] = []
    if objective.type is None:
        problems.append(Problem(f"{at}.type", "required: minimize or maximize"))
    if objective.goal is not None and not math.isfinite(objective.goal):
        problems.append(Problem(f"{at}.goal", f"must be a finite number, got {objective.goal}"))
    if not objective.objective_metric_name:
        problems.append(Problem(f"{at}.objectiveMetricName", "required: the name of the metric to optimize"))
    seen: set[str] = set()
    for i, name in enumerate(objective.additional_metric_names or []):
        if not name:
            problems.append(Problem(f"{at}.additionalMetricNames[{i}]", "must not be empty: a metric name"))
        elif name == objective.objective_metric_name:
            problems.append(
                Problem(
                    f"{at}.additionalMetricNames[{i}]",
                    f"'{name}' is the objectiveMetricName; list only other metrics here",
                )
            )
        elif name in seen:
            problems.append(Problem(f"{at}.additionalMetricNames[{i}]", f"duplicate metric name '{name}'"))
        seen.add(name)
    for i, strategy in enumerate(objective.metric_strategies or []):
        if not strategy.name:
            problems.append(
                Problem(f"{at}.metricStrategies[{i}].name", "required: the metric this strategy applies to")
            )
        if strategy.value is None:
            problems.append(Problem(f"{at}.metricStrategies[{i}].value", "required: min, max or latest"))
    return problems


def check_algorithm(spec: ExperimentSpec) -> list[Problem]:
    """An algorithm is named and its settings are named once each (their meaning is the registry's)."""
    at = "spec.algorithm"
    if "algorithm" not in spec.model_fields_set:
        return [Problem(at, "required: the suggestion algorithm, e.g. algorithmName: random")]
    problems: list[Problem] = []
    if not spec.algorithm.algorithm_name:
        problems.append(
            Problem(f"{at}.algorithmName", "required: the suggestion algorithm's name, e.g. random")
        )
    seen: dict[str, int] = {}
    for i, setting in enumerate(spec.algorithm.algorithm_settings or []):
        if not setting.name:
            problems.append(Problem(f"{at}.algorithmSettings[{i}].name", "required"))
        elif setting.name in seen:
            problems.append(
                Problem(
                    f"{at}.algorithmSettings[{i}].name",
                    f"duplicate setting '{setting.name}' (also algorithmSettings[{seen[setting.name]}])",
                )
            )
        else:
            seen[setting.name] = i
    return problems


def check_search_space(spec: ExperimentSpec) -> list[Problem]:
    """Exactly one of `parameters` and `nasConfig`, and each well formed."""
    if not spec.parameters and spec.nas_config is None:
        return [
            Problem(
                "spec.parameters", "required: the search space (or spec.nasConfig for architecture search)"
            )
        ]
    if spec.parameters and spec.nas_config is not None:
        return [Problem("spec.nasConfig", "give either spec.parameters or spec.nasConfig, not both")]
    if spec.parameters:
        return check_parameters(spec.parameters)
    problems: list[Problem] = []
    for i, operation in enumerate(spec.nas_config.operations or [] if spec.nas_config else []):
        at = f"spec.nasConfig.operations[{i}]"
        if not operation.operation_type:
            problems.append(
                Problem(f"{at}.operationType", "required: the operation's type, e.g. convolution")
            )
        problems += check_parameters(operation.parameters or [], f"{at}.parameters")
    return problems
