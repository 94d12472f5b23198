"""Values in a trial's workload that Kubernetes itself would refuse: resource quantities and Job limits.

Katib hands the trial template to the API server as it is, so `cpu: lots` or `backoffLimit: two` only fail
when the first trial is created, on a cluster, and locally they used to crash the controller. These rules
find them up front, with the field's path, the value and the accepted forms:

    resources.limits/requests   cpu and memory are quantities ("500m", "2", "512Mi"); extended resources
                                such as nvidia.com/gpu are whole numbers; a request may not exceed its limit
    spec.backoffLimit           a whole number >= 0 (retries of a failed trial)
    spec.activeDeadlineSeconds  a whole number > 0 (seconds a trial may run)

A value holding `${trialParameters.x}` is filled in per trial, so it is left to the cluster here (running
locally refuses it: see `controllers.local`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from tuner.errors import Problem
from tuner.quantities import parse_cpu, parse_memory
from tuner.spec import Experiment
from tuner.spec.paths import child, join
from tuner.spec.trial_template import PLACEHOLDER
from tuner.spec.workload import containers

TRIAL_SPEC = "spec.trialTemplate.trialSpec"

# Integer fields of the workload's `spec` and the smallest value each takes (batch/v1 JobSpec).
JOB_COUNTS: dict[str, tuple[int, str]] = {
    "backoffLimit": (0, "the number of retries of a failed trial, e.g. 2 (0 = no retry)"),
    "activeDeadlineSeconds": (1, "the seconds a trial may run, e.g. 3600"),
}
_BYTES_RESOURCES = ("memory", "ephemeral-storage", "storage")


def check_workload(experiment: Experiment) -> list[Problem]:
    """Problems of the experiment's inline trial workload (`trialSpec`), with field paths; see the module."""
    body = experiment.spec.trial_template.trial_spec
    if not isinstance(body, Mapping):
        return []  # no inline workload (a configMap template, or the spec reports what is missing)
    return workload_problems(body, TRIAL_SPEC)


def workload_problems(body: Mapping[str, Any], at: str = "") -> list[Problem]:
    """Problems of one workload object; paths are `at` followed by the path inside the object."""
    problems: list[Problem] = []
    for path, container in containers(body):
        problems += _resources_problems(container.get("resources"), join(at, child(path, "resources")))
    spec = body.get("spec")
    if isinstance(spec, Mapping):
        for field, (least, meaning) in JOB_COUNTS.items():
            if field in spec:
                problems += _count_problems(spec[field], join(at, f"spec.{field}"), least, meaning)
    return problems


def is_placeholder(value: Any) -> bool:
    """Whether a value is filled in per trial (holds `${trialParameters.x}`)."""
    return isinstance(value, str) and PLACEHOLDER.search(value) is not None


def _resources_problems(resources: Any, at: str) -> list[Problem]:
    if resources is None:
        return []
    if not isinstance(resources, Mapping):
        return [Problem(at, f"must be a mapping with `limits` and/or `requests`, got {resources!r}")]
    problems: list[Problem] = []
    amounts: dict[str, dict[str, float]] = {}
    for section in ("limits", "requests"):
        values = resources.get(section)
        if values is None:
            continue
        where = child(at, section)
        if not isinstance(values, Mapping):
            problems.append(Problem(where, f"must map resource names to quantities, got {values!r}"))
            continue
        amounts[section] = {}
        for name, value in values.items():
            amount, problem = _quantity(str(name), value, child(where, str(name)))
            if problem is not None:
                problems.append(problem)
            elif amount is not None:
                amounts[section][str(name)] = amount
    for name, requested in amounts.get("requests", {}).items():
        limit = amounts.get("limits", {}).get(name)
        if limit is not None and requested > limit:
            problems.append(
                Problem(
                    child(child(at, "requests"), name),
                    f"{resources['requests'][name]!r} is more than limits.{name} "
                    f"({resources['limits'][name]!r}); a request may not exceed its limit",
                )
            )
    return problems


def _quantity(name: str, value: Any, at: str) -> tuple[float | None, Problem | None]:
    """The amount of one resource (None when it cannot be known yet), or the problem with it."""
    if is_placeholder(value):
        return None, None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None, Problem(at, f"must be a quantity such as '2' or '500m', got {value!r}")
    parse: Callable[[Any], float] | None = None
    if name == "cpu":
        parse = parse_cpu
    elif name in _BYTES_RESOURCES or name.startswith("hugepages-"):
        parse = parse_memory
    elif "/" in name:  # an extended resource (nvidia.com/gpu, amd.com/gpu): whole devices
        return _whole(value, at, f"{name} counts whole devices; write a whole number such as 1")
    if parse is None:
        return None, None  # a resource tuner does not know the unit of: the cluster judges it
    try:
        amount = float(parse(value))
    except ValueError as exc:
        return None, Problem(at, str(exc))
    if not math.isfinite(amount):
        return None, Problem(at, f"{value!r} is not a finite quantity; write e.g. '2' or '500m'")
    return amount, None


def _whole(value: Any, at: str, hint: str) -> tuple[float | None, Problem | None]:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return float(value), None
    if isinstance(value, str) and value.strip().isdecimal():
        return float(value.strip()), None
    return None, Problem(at, f"{value!r} is not a whole number: {hint}")


def _count_problems(value: Any, at: str, least: int, meaning: str) -> list[Problem]:
    if is_placeholder(value):
        return []
    if isinstance(value, int) and not isinstance(value, bool):
        if value >= least:
            return []
        return [Problem(at, f"must be at least {least}, got {value}: {meaning}")]
    hint = " (without quotes)" if isinstance(value, str) and value.strip().lstrip("-").isdecimal() else ""
    return [Problem(at, f"must be a whole number{hint}, got {value!r}: {meaning}")]
