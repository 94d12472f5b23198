"""Search-space helpers for `tuner.tune`, named as Katib's `katib.search`: double, int, categorical, discrete.

Each returns the `ParameterSpec` of one parameter (the name comes from the key of the `parameters` dict),
so a space written in Python is the `spec.parameters` a YAML file would hold, with one difference: a
categorical keeps the Python type of each choice (int, float, bool, str or None), where a Katib file holds
strings, so that the objective receives `16` and `False`, never `"16"` and `"False"`.

    >>> from tuner import search
    >>> search.double(1e-4, 1e-1, log=True).feasible_space.distribution.value
    'logUniform'
    >>> search.categorical([16, 32]).feasible_space.list_
    [16, 32]
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any, Union

from tuner.spec.parameters import (
    PYTHON_VALUES,
    Distribution,
    FeasibleSpace,
    ParameterSpec,
    ParameterType,
    number_text,
)


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


Choice = Union[str, builtins.int, float, bool, None]
"""A categorical choice: any of these types, kept as given."""


def categorical(values: Sequence[Choice]) -> ParameterSpec:
    """One of the given choices, each handed to the objective with its own type (`[True, False]` gives bools).

    Raises:
        TypeError: a choice of another type (it must go through the store and come back as itself).
    """
    if isinstance(values, (str, bytes)):
        raise TypeError(f"categorical() takes a list of choices, got the string {values!r}")
    choices = list(values)
    for i, value in enumerate(choices):
        if value is not None and not isinstance(value, (str, builtins.int, float, bool)):
            raise TypeError(
                f"categorical choice [{i}] {value!r} is a {type(value).__name__}; "
                "choices must be str, int, float, bool or None (pass a name and look the object up in the objective)"
            )
    return _listed(ParameterType.CATEGORICAL, choices, python_values=True)


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


def _listed(kind: ParameterType, values: list[Any], python_values: bool = False) -> ParameterSpec:
    context = {PYTHON_VALUES: True} if python_values else None
    space = FeasibleSpace.model_validate({"list": values}, context=context)
    return ParameterSpec.model_validate({"name": "", "parameterType": kind, "feasibleSpace": space})
