"""Search-space helpers for `tuner.tune`, named as Katib's `katib.search`: double, int, categorical, discrete.

Each returns the `ParameterSpec` of one parameter (the name comes from the key of the `parameters` dict),
so a space written in Python is exactly the `spec.parameters` a YAML file would hold.

    >>> from tuner import search
    >>> search.double(1e-4, 1e-1, log=True).feasible_space.distribution.value
    'logUniform'
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from tuner.spec.parameters import Distribution, FeasibleSpace, ParameterSpec, ParameterType, number_text


def _text(value: object) -> str | None:
    return None if value is None else str(number_text(value))


def double(
    min: float,
    max: float,
    step: float | None = None,
    *,
    log: bool = False,
    distribution: str | None = None,
) -> ParameterSpec:
    """A real-valued parameter in [min, max]; `log=True` samples on a log scale (Katib's logUniform)."""
    return _range(ParameterType.DOUBLE, float(min), float(max), step, log, distribution)


def int(
    min: builtins.int,
    max: builtins.int,
    step: builtins.int | None = None,
    *,
    log: bool = False,
    distribution: str | None = None,
) -> ParameterSpec:
    """An integer parameter in [min, max] (both included)."""
    return _range(ParameterType.INT, min, max, step, log, distribution)


def categorical(values: Sequence[str]) -> ParameterSpec:
    """One of the given strings."""
    return _listed(ParameterType.CATEGORICAL, [str(v) for v in values])


def discrete(values: Sequence[float]) -> ParameterSpec:
    """One of the given numbers."""
    return _listed(ParameterType.DISCRETE, [str(number_text(v)) for v in values])


def _range(
    kind: ParameterType, low: object, high: object, step: object, log: bool, distribution: str | None
) -> ParameterSpec:
    dist = (
        Distribution(distribution)
        if distribution
        else (Distribution.LOG_UNIFORM if log else Distribution.UNIFORM)
    )
    space = FeasibleSpace.model_validate(
        {"min": _text(low), "max": _text(high), "step": _text(step), "distribution": dist}
    )
    return ParameterSpec.model_validate({"name": "", "parameterType": kind, "feasibleSpace": space})


def _listed(kind: ParameterType, values: list[str]) -> ParameterSpec:
    space = FeasibleSpace.model_validate({"list": values})
    return ParameterSpec.model_validate({"name": "", "parameterType": kind, "feasibleSpace": space})
