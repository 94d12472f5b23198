"""The search space: typed parameters built from Katib's `spec.parameters`, assignments, and the maps
between them and the unit hypercube that suggestion algorithms work in."""

from tuner.space.parameters import (
    CategoricalParameter,
    DiscreteParameter,
    DoubleParameter,
    IntParameter,
    ListParameter,
    NumericRange,
    Parameter,
)
from tuner.space.space import SearchSpace
from tuner.space.values import Assignment, Value, as_float, render_value

__all__ = [
    "Assignment",
    "CategoricalParameter",
    "DiscreteParameter",
    "DoubleParameter",
    "IntParameter",
    "ListParameter",
    "NumericRange",
    "Parameter",
    "SearchSpace",
    "Value",
    "as_float",
    "render_value",
]
