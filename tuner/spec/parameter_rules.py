"""Rules for a list of `ParameterSpec`s: Katib's admission rules plus the numeric ones its services assume.

Shared by experiment validation (`spec.parameters`, each `nasConfig` operation) and `tuner.space`, which
builds search spaces from parameters and must refuse the same things with the same words. So this module
imports nothing of the project but `tuner.errors` and `tuner.spec.parameters`.

Numbers are Katib strings; they must be plain decimal numbers (`"0.01"`, `"-3"`, `"1e-4"`), finite.
Ranges: a double needs min < max; an int accepts min == max (a fixed value, as Katib's own hyperband
example uses for its resource parameter), never min > max.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from tuner.errors import Problem
from tuner.spec.parameters import Distribution, FeasibleSpace, ParameterSpec, ParameterType

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")
_LOG_DISTRIBUTIONS = (Distribution.LOG_UNIFORM, Distribution.LOG_NORMAL)
_RANGE_TYPES = (ParameterType.DOUBLE, ParameterType.INT)
_LIST_TYPES = (ParameterType.DISCRETE, ParameterType.CATEGORICAL)
_SUPPORTED = "double, int, discrete or categorical"


def is_number(text: str) -> bool:
    """True for a plain finite decimal number, the form Katib's services parse (and a float can hold)."""
    return _NUMBER.fullmatch(text.strip()) is not None and math.isfinite(float(text))


def _not_a_number(text: str) -> str:
    if _NUMBER.fullmatch(text.strip()) is not None:
        return f"'{text}' is too large to be represented as a number (a double)"
    return f"'{text}' is not a number"


def is_integer(text: str) -> bool:
    """True for a whole number written without a fraction (`"5"`, not `"5.0"`)."""
    return _INTEGER.fullmatch(text.strip()) is not None


def check_parameters(parameters: Sequence[ParameterSpec], path: str = "spec.parameters") -> list[Problem]:
    """Every problem with these parameters, each naming `path[i]...`, the bad value and what is expected."""
    problems: list[Problem] = []
    first_index: dict[str, int] = {}
    for i, parameter in enumerate(parameters):
        at = f"{path}[{i}]"
        if not parameter.name:
            problems.append(Problem(f"{at}.name", "required: the parameter's name"))
        elif parameter.name in first_index:
            other = f"{path}[{first_index[parameter.name]}]"
            problems.append(
                Problem(f"{at}.name", f"duplicate parameter name '{parameter.name}' (also {other})")
            )
        else:
            first_index[parameter.name] = i
        problems += check_parameter(parameter, at)
    return problems


def check_parameter(parameter: ParameterSpec, at: str) -> list[Problem]:
    """The problems of one parameter's type and feasible space (its name is checked by the caller)."""
    kind = parameter.parameter_type
    space = parameter.feasible_space
    if kind in _RANGE_TYPES:
        return _check_range(kind, space, f"{at}.feasibleSpace")
    if kind in _LIST_TYPES:
        return _check_list(kind, space, f"{at}.feasibleSpace")
    return [Problem(f"{at}.parameterType", f"'{kind.value}' is not supported; use {_SUPPORTED}")]


def _check_range(kind: ParameterType, space: FeasibleSpace, at: str) -> list[Problem]:
    problems: list[Problem] = []
    if space.list_:
        problems.append(
            Problem(
                f"{at}.list",
                f"not allowed for parameterType {kind.value}; give min and max, "
                "or use parameterType discrete or categorical for a list of values",
            )
        )
    low = _bound(kind, space.min, f"{at}.min", "lower", problems)
    high = _bound(kind, space.max, f"{at}.max", "upper", problems)
    if low is not None and high is not None:
        if kind is ParameterType.DOUBLE and low >= high:
            problems.append(Problem(at, f"min ({space.min}) must be less than max ({space.max})"))
        elif low > high:
            problems.append(Problem(at, f"min ({space.min}) must not be greater than max ({space.max})"))
        elif not math.isfinite(high - low):
            problems.append(Problem(at, "the range is too wide to be represented as a number (a double)"))
    if space.step is not None:
        problems += _check_step(kind, space.step, f"{at}.step")
    if space.distribution in _LOG_DISTRIBUTIONS and low is not None and low <= 0:
        problems.append(
            Problem(
                f"{at}.min",
                f"must be greater than 0 for distribution {space.distribution.value} "
                f"(a log scale has no 0 or negative values), got {space.min}",
            )
        )
    return problems


def _bound(
    kind: ParameterType, text: str | None, at: str, which: str, problems: list[Problem]
) -> float | None:
    if text is None or text == "":
        problems.append(Problem(at, f"required for parameterType {kind.value}: the {which} bound"))
        return None
    if not is_number(text):
        problems.append(Problem(at, _not_a_number(text)))
        return None
    if kind is ParameterType.INT and not is_integer(text):
        problems.append(
            Problem(at, f"'{text}' is not a whole number (parameterType int needs integer bounds)")
        )
        return None
    return float(text)


def _check_step(kind: ParameterType, step: str, at: str) -> list[Problem]:
    if not is_number(step):
        return [Problem(at, _not_a_number(step))]
    if kind is ParameterType.INT and not is_integer(step):
        return [Problem(at, f"'{step}' is not a whole number (parameterType int needs an integer step)")]
    if float(step) <= 0:
        return [Problem(at, f"must be greater than 0, got {step}")]
    return []


def _check_list(kind: ParameterType, space: FeasibleSpace, at: str) -> list[Problem]:
    problems = [
        Problem(
            f"{at}.{field}",
            f"not allowed for parameterType {kind.value}; list the values in feasibleSpace.list",
        )
        for field, value in (("min", space.min), ("max", space.max), ("step", space.step))
        if value not in (None, "")
    ]
    if not space.list_:
        problems.append(
            Problem(f"{at}.list", f"required for parameterType {kind.value}: a non-empty list of values")
        )
        return problems
    seen: dict[Any, int] = {}
    for i, value in enumerate(space.list_):
        keys: list[Any] = [str(value)]  # categorical choices are stored as text: texts must differ
        if kind is ParameterType.DISCRETE:
            if (
                not isinstance(value, (str, int, float))
                or isinstance(value, bool)
                or not is_number(str(value))
            ):
                problems.append(
                    Problem(
                        f"{at}.list[{i}]",
                        f"'{value}' is not a number; discrete values must be numbers "
                        "(use parameterType categorical for text values)",
                    )
                )
                continue
            keys = [float(value)]
        elif not isinstance(value, str):
            keys.append(value)  # from Python: 1, 1.0 and True are one value to a dict
            if isinstance(value, float) and not math.isfinite(value):
                problems.append(Problem(f"{at}.list[{i}]", f"{value!r} is not a finite number"))
        repeated = next((seen[k] for k in keys if k in seen), None)
        if repeated is not None:
            problems.append(Problem(f"{at}.list[{i}]", f"duplicate value '{value}' (also list[{repeated}])"))
        for k in keys:
            seen.setdefault(k, i)
    return problems
