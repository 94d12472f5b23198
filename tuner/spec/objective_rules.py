"""Rules of `spec.objective.objectives`, tuner's multi-objective extension of Katib's single objective.

Katib optimises one metric; `objectives` lists several, each with its own direction, and the experiment's
result is their Pareto front. The extension belongs to tuner's API group: a `kubeflow.org/v1beta1` file
that uses it would not run on Katib, so it is refused there with the fix. The first objective is also the
primary one (`objectiveMetricName` and `type`, which `apply_defaults` fills from it). `goal` and
`earlyStopping` judge one metric's value, which says nothing about a trade-off, so they are refused.
"""

from __future__ import annotations

from tuner.errors import Problem
from tuner.spec.experiment import KATIB_API_VERSION, TUNER_API_VERSION, Experiment

AT = "spec.objective.objectives"


def check_objectives(experiment: Experiment) -> list[Problem]:
    """Every problem of `objectives` (nothing when the field is absent)."""
    objective = experiment.spec.objective
    items = objective.objectives
    if items is None:
        return []
    if experiment.api_version == KATIB_API_VERSION:
        return [
            Problem(
                AT,
                f"several objectives ({len(items)} given) are tuner's extension, which Katib's "
                f"{KATIB_API_VERSION} does not have: set apiVersion: {TUNER_API_VERSION}, or keep one "
                "objective (objectiveMetricName and type) for Katib",
            )
        ]
    if len(items) < 2:
        return [
            Problem(
                AT,
                f"lists {len(items)} objective(s); give at least two, or set objectiveMetricName and type "
                "for a single objective",
            )
        ]
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        if not item.metric_name:
            problems.append(Problem(f"{AT}[{i}].metricName", "required: the name of a metric to optimise"))
        elif item.metric_name in seen:
            problems.append(
                Problem(
                    f"{AT}[{i}].metricName",
                    f"duplicate objective '{item.metric_name}' (also objectives[{seen[item.metric_name]}])",
                )
            )
        else:
            seen[item.metric_name] = i
        if item.type is None:
            problems.append(Problem(f"{AT}[{i}].type", "required: minimize or maximize"))
    problems += _primary(experiment, items[0].metric_name, items[0].type)
    for i, name in enumerate(objective.additional_metric_names or []):
        if name in seen:
            problems.append(
                Problem(
                    f"spec.objective.additionalMetricNames[{i}]",
                    f"'{name}' is one of the objectives; list only other metrics here",
                )
            )
    if objective.goal is not None:
        problems.append(
            Problem(
                "spec.objective.goal",
                f"{objective.goal} stops at one metric's value, which does not apply to several objectives: "
                "remove goal (the experiment runs to maxTrialCount)",
            )
        )
    if experiment.spec.early_stopping is not None:
        problems.append(
            Problem(
                "spec.earlyStopping",
                "early stopping compares one metric's series between trials, which does not apply to "
                "several objectives: remove earlyStopping, or optimise one objective",
            )
        )
    return problems


def _primary(experiment: Experiment, first_name: str | None, first_type: object) -> list[Problem]:
    """objectiveMetricName and type, when given beside `objectives`, must be its first entry."""
    objective = experiment.spec.objective
    problems: list[Problem] = []
    if first_name and objective.objective_metric_name and objective.objective_metric_name != first_name:
        problems.append(
            Problem(
                "spec.objective.objectiveMetricName",
                f"'{objective.objective_metric_name}' differs from the first objective '{first_name}': "
                "leave it out, or put that metric first in objectives",
            )
        )
    if first_type is not None and objective.type is not None and objective.type != first_type:
        problems.append(
            Problem(
                "spec.objective.type",
                f"'{objective.type.value}' differs from the first objective's type: leave it out, or make "
                "them equal",
            )
        )
    return problems
