"""Katib's `spec.parameters[]`: the search space as the user wrote it.

Values stay strings, as in Katib's API (`min: "0.01"`); numbers written without quotes are accepted and kept
as their shortest exact text, so that dumping a spec gives back what was meant. Turning these into numbers,
checking ranges and sampling is `tuner.space`'s job; this module only describes the shape.

One exception, for specs built in Python (`tuner.search.categorical`, `tuner.tune`): validated with the
context `PYTHON_VALUES`, a categorical's `list` keeps each choice's type (int, float, bool, str or None),
so that the objective gets back what it was given; the stored spec (JSON) keeps those types. Files keep
Katib's rule: list entries are text (an unquoted `yes` is refused, not read as True).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Annotated, Any, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationInfo, field_validator

from tuner.spec.structure import ShownAs

PYTHON_VALUES = "python_values"
"""Validation context key: the document was built in Python, list entries keep their types."""

ListValue = Union[str, bool, int, float, None]
"""A `feasibleSpace.list` entry: text in a Katib file; from Python a categorical choice of any of these types."""

_KATIB_LIST: TypeAdapter[list[str]] = TypeAdapter(list[str])


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
    list_: list[Annotated[ListValue, ShownAs(str)]] | None = Field(default=None, alias="list")
    distribution: Distribution | None = None

    @field_validator("min", "max", "step", mode="before")
    @classmethod
    def _number_as_text(cls, value: Any) -> Any:
        return number_text(value)

    @field_validator("list_", mode="wrap")
    @classmethod
    def _items(cls, value: Any, handler: Any, info: ValidationInfo) -> Any:
        if isinstance(info.context, Mapping) and info.context.get(PYTHON_VALUES):
            return handler(value)
        if isinstance(value, list):
            return _KATIB_LIST.validate_python([number_text(v) for v in value])
        return handler(value)


class ParameterSpec(KatibModel):
    """One entry of `spec.parameters`."""

    name: str
    parameter_type: ParameterType = Field(alias="parameterType")
    feasible_space: FeasibleSpace = Field(default_factory=FeasibleSpace, alias="feasibleSpace")
