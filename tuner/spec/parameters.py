"""Katib's `spec.parameters[]`: the search space as the user wrote it.

Values stay strings, as in Katib's API (`min: "0.01"`); numbers written without quotes are accepted and kept
as their shortest exact text, so that dumping a spec gives back what was meant. Turning these into numbers,
checking ranges and sampling is `tuner.space`'s job; this module only describes the shape.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ParameterType(str, Enum):
    """Katib's parameterType values (`unknown` is tolerated by Katib's API and rejected by validation)."""

    DOUBLE = "double"
    INT = "int"
    DISCRETE = "discrete"
    CATEGORICAL = "categorical"
    UNKNOWN = "unknown"


class Distribution(str, Enum):
    """Katib's feasibleSpace.distribution values (uniform is the default)."""

    UNIFORM = "uniform"
    LOG_UNIFORM = "logUniform"
    NORMAL = "normal"
    LOG_NORMAL = "logNormal"


def number_text(value: Any) -> Any:
    """Render a YAML number as Katib's string form without losing precision (ints stay `5`, never `5.0`)."""
    if isinstance(value, bool):
        return value  # let the type check reject it with a clear message
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return value


class KatibModel(BaseModel):
    """Base for Katib-shaped models: camelCase field names, aliases for Python keywords, no silent extras."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid", use_enum_values=False)


class FeasibleSpace(KatibModel):
    """`feasibleSpace`: min/max/step for double and int, list for discrete and categorical."""

    min: str | None = None
    max: str | None = None
    step: str | None = None
    list_: list[str] | None = Field(default=None, alias="list")
    distribution: Distribution | None = None

    @field_validator("min", "max", "step", mode="before")
    @classmethod
    def _number_as_text(cls, value: Any) -> Any:
        return number_text(value)

    @field_validator("list_", mode="before")
    @classmethod
    def _items_as_text(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [number_text(v) for v in value]
        return value


class ParameterSpec(KatibModel):
    """One entry of `spec.parameters`."""

    name: str
    parameter_type: ParameterType = Field(alias="parameterType")
    feasible_space: FeasibleSpace = Field(default_factory=FeasibleSpace, alias="feasibleSpace")
