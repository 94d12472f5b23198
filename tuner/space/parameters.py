"""Typed parameters: one dimension of a search space each, with its values, its prior and its geometry.

`tuner.space.space.SearchSpace` builds these from Katib's `spec.parameters`; suggestion algorithms use
them through the space. Each parameter knows:

- which values it allows (`contains`), how to read one from text (`parse`) and how to write it (`render`);
- its geometry, as a map to and from the unit interval (`to_unit` / `from_unit`): linear, or logarithmic
  for ``logUniform``/``logNormal``; values on a step grid, ints, discrete and categorical values each own an
  equal-width cell of [0, 1], so that a uniform point of the unit interval lands on every allowed value
  with the prior's probability and `from_unit(to_unit(v)) == v`;
- its prior (`from_quantile`, `sample`): uniform over the unit interval, or for ``normal``/``logNormal``
  Katib's normal with mean at the middle of the range and sigma a sixth of it, truncated to the range;
- its finite values when it has finitely many (`cardinality`, `value_at`), for grid search.

Numbers are parsed from Katib's strings once, here; grid values of a stepped double are computed in
decimal from those strings, so ``min: "0.1", step: "0.1"`` gives 0.3 and not 0.30000000000000004.
This module does not validate a whole spec (that is `tuner.spec`'s job) beyond what it needs to work.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from statistics import NormalDist
from typing import Any, ClassVar

import numpy as np

from tuner.space.values import Value, as_float, render_value
from tuner.spec.parameters import Distribution

# Katib's normal prior covers the range with +-3 sigma; the truncated normal lives on [0, 1] in unit space.
_NORMAL_SIGMA = 1.0 / 6.0
_STANDARD_NORMAL = NormalDist()  # the standard library's, so that importing the space needs no scipy
_CDF_LO = _STANDARD_NORMAL.cdf(-3.0)
_CDF_HI = _STANDARD_NORMAL.cdf(3.0)
# Relative tolerance when checking that a double lies on its step grid (values read back from text).
_STEP_TOLERANCE = 1e-9


class Parameter(abc.ABC):
    """One dimension of a search space. Subclasses are immutable value objects."""

    parameter_type: ClassVar[str]
    """Katib's parameterType: ``double``, ``int``, ``discrete`` or ``categorical``."""

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def is_numeric(self) -> bool:
        """True for parameters with an order and a distance (everything but categorical)."""
        return True

    @property
    def cardinality(self) -> int | None:
        """Number of allowed values, or None for a continuous range."""
        return None

    def value_at(self, index: int) -> Value:
        """The `index`-th allowed value (0 <= index < cardinality), in grid order."""
        raise TypeError(f"parameter {self.name!r} is continuous: it has no grid (give it a step)")

    @abc.abstractmethod
    def contains(self, value: object) -> bool:
        """Whether `value` is one of this parameter's allowed values, with the right Python type."""

    @abc.abstractmethod
    def to_unit(self, value: Value) -> float:
        """Position of an allowed value in [0, 1] (linear or log geometry; finite values at cell centres)."""

    @abc.abstractmethod
    def from_unit(self, u: float) -> Value:
        """The allowed value at position `u` of [0, 1] (clipped), snapped to the step grid or the list."""

    def from_quantile(self, q: float) -> Value:
        """The value at quantile `q` of the prior: ``sample`` is ``from_quantile(uniform(0, 1))``."""
        return self.from_unit(q)

    def sample(self, rng: np.random.Generator) -> Value:
        """One value drawn from the prior."""
        return self.from_quantile(float(rng.random()))

    @abc.abstractmethod
    def parse(self, text: str) -> Value:
        """The typed value written as `text` (raises ValueError saying what was expected)."""

    def render(self, value: Value) -> str:
        """Text of `value` for a trial template: ints as ``5``, floats exactly, categories as given."""
        return render_value(value)

    @abc.abstractmethod
    def coerce(self, value: object) -> Value:
        """`value` (a Python number or str, e.g. from JSON) as this parameter's typed value (or ValueError)."""

    @abc.abstractmethod
    def to_spec(self) -> dict[str, Any]:
        """Katib's JSON shape of this parameter (name, parameterType, feasibleSpace), strings as written."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.to_spec() == self.to_spec()

    def __hash__(self) -> int:
        return hash(repr(self.to_spec()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_spec()['feasibleSpace']!r}, name={self.name!r})"


def truncated_normal_unit(q: float) -> float:
    """Quantile `q` of Katib's normal prior in unit space: mean 0.5, sigma 1/6, truncated to [0, 1]."""
    p = _CDF_LO + min(max(q, 0.0), 1.0) * (_CDF_HI - _CDF_LO)
    return min(max(0.5 + _NORMAL_SIGMA * _STANDARD_NORMAL.inv_cdf(p), 0.0), 1.0)


class NumericRange(Parameter):
    """Common part of `double` and `int`: a range [low, high], an optional step, a distribution.

    Quantised ranges (ints, stepped doubles) give each grid value an equal cell of the unit interval in
    the warped (linear or log) geometry; continuous ranges map [low, high] to [0, 1] directly.
    """

    def __init__(
        self,
        name: str,
        low: Decimal,
        high: Decimal,
        step: Decimal | None,
        distribution: Distribution,
        texts: dict[str, str],
    ) -> None:
        super().__init__(name)
        self._low_dec, self._high_dec, self._step_dec = low, high, step
        self.distribution = distribution
        self._texts = texts
        self.log = distribution in (Distribution.LOG_UNIFORM, Distribution.LOG_NORMAL)
        self.normal_prior = distribution in (Distribution.NORMAL, Distribution.LOG_NORMAL)
        self._n: int | None = None if step is None else int((high - low) / step) + 1
        self._w_lo, self._w_hi = self._unit_ends()

    # -- geometry -----------------------------------------------------------------------------------
    def _warp(self, v: float) -> float:
        return math.log(v) if self.log else v

    def _unwarp(self, w: float) -> float:
        return math.exp(w) if self.log else w

    def _unit_ends(self) -> tuple[float, float]:
        if self._n is None:
            return self._warp(float(self._low_dec)), self._warp(float(self._high_dec))
        first, last = self._warp(as_float(self.value_at(0))), self._warp(as_float(self.value_at(self._n - 1)))
        if self._n == 1:
            return first - 0.5, last + 0.5
        low_pad = (self._warp(as_float(self.value_at(1))) - first) / 2
        high_pad = (last - self._warp(as_float(self.value_at(self._n - 2)))) / 2
        return first - low_pad, last + high_pad

    @property
    def cardinality(self) -> int | None:
        return self._n

    @property
    def low(self) -> float:
        return float(self._low_dec)

    @property
    def high(self) -> float:
        return float(self._high_dec)

    @property
    def step(self) -> float | None:
        return None if self._step_dec is None else float(self._step_dec)

    def value_at(self, index: int) -> Value:
        if self._n is None or self._step_dec is None:
            return super().value_at(index)
        if not 0 <= index < self._n:
            raise IndexError(f"parameter {self.name!r} has {self._n} values, no index {index}")
        return self._typed(self._low_dec + index * self._step_dec)

    @abc.abstractmethod
    def _typed(self, value: Decimal) -> Value:
        """A grid value (exact decimal) as the parameter's Python type."""

    def _grid_index(self, value: float) -> int:
        """Index of the grid value nearest to `value` (on the linear axis)."""
        assert self._n is not None and self._step_dec is not None
        i = round((value - float(self._low_dec)) / float(self._step_dec))
        return min(max(i, 0), self._n - 1)

    def to_unit(self, value: Value) -> float:
        u = (self._warp(as_float(value)) - self._w_lo) / (self._w_hi - self._w_lo)
        return min(max(u, 0.0), 1.0)

    def from_unit(self, u: float) -> Value:
        u = min(max(float(u), 0.0), 1.0)
        if self._n is None:
            v = self._unwarp(self._w_lo + u * (self._w_hi - self._w_lo))
            return self._typed_float(min(max(v, self.low), self.high))
        if not self.log:
            return self.value_at(min(int(u * self._n), self._n - 1))
        w = self._w_lo + u * (self._w_hi - self._w_lo)
        i = self._grid_index(math.exp(w))
        candidates = {max(i - 1, 0), i, min(i + 1, self._n - 1)}
        best = min(candidates, key=lambda j: abs(self._warp(as_float(self.value_at(j))) - w))
        return self.value_at(best)

    def _typed_float(self, v: float) -> Value:
        return v

    def nearest(self, value: float) -> Value:
        """The allowed value nearest to the number `value` (in this parameter's geometry)."""
        v = min(max(float(value), self.low), self.high)
        if self._n is None:
            return self._typed_float(v)
        if not self.log:
            return self.value_at(self._grid_index(v))
        return self.from_unit(self.to_unit(v))

    def from_quantile(self, q: float) -> Value:
        return self.from_unit(truncated_normal_unit(q) if self.normal_prior else q)

    # -- values -------------------------------------------------------------------------------------
    def _on_grid(self, v: float) -> bool:
        if self._step_dec is None:
            return True
        i = self._grid_index(v)
        ref = as_float(self.value_at(i))
        return abs(v - ref) <= _STEP_TOLERANCE * max(1.0, abs(ref), float(self._step_dec))

    def to_spec(self) -> dict[str, Any]:
        space: dict[str, Any] = {"min": self._texts["min"], "max": self._texts["max"]}
        if "step" in self._texts:
            space["step"] = self._texts["step"]
        if self.distribution != Distribution.UNIFORM or "distribution" in self._texts:
            space["distribution"] = self.distribution.value
        return {"name": self.name, "parameterType": self.parameter_type, "feasibleSpace": space}


class DoubleParameter(NumericRange):
    """Katib ``double``: a float in [min, max], on the grid min + k * step when a step is given."""

    parameter_type = "double"

    def _typed(self, value: Decimal) -> Value:
        return float(value)

    def _typed_float(self, v: float) -> Value:
        return float(v)

    def contains(self, value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        v = float(value)
        return math.isfinite(v) and self.low <= v <= self.high and self._on_grid(v)

    def parse(self, text: str) -> Value:
        try:
            v = float(text)
        except (TypeError, ValueError):
            raise ValueError(f"expected a number for double parameter {self.name!r}, got {text!r}") from None
        if not math.isfinite(v):
            raise ValueError(f"expected a finite number for double parameter {self.name!r}, got {text!r}")
        return v

    def coerce(self, value: object) -> Value:
        if isinstance(value, str):
            return self.parse(value)
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ValueError(f"expected a number for double parameter {self.name!r}, got {value!r}")
        return self.parse(repr(float(value)))


class IntParameter(NumericRange):
    """Katib ``int``: an integer in [min, max] on the grid min + k * step (step 1 unless given)."""

    parameter_type = "int"

    def _typed(self, value: Decimal) -> Value:
        return int(value)

    def contains(self, value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, int):
            return False
        low, step = int(self._low_dec), int(self._step_dec or 1)
        return low <= value <= int(self._high_dec) and (value - low) % step == 0

    def parse(self, text: str) -> Value:
        try:
            return int(str(text).strip())
        except ValueError:
            raise ValueError(
                f"expected an integer like 5 for int parameter {self.name!r}, got {text!r}"
            ) from None

    def coerce(self, value: object) -> Value:
        if isinstance(value, str):
            return self.parse(value)
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            return int(value)
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            return int(value)
        raise ValueError(f"expected an integer for int parameter {self.name!r}, got {value!r}")


class ListParameter(Parameter):
    """Common part of `discrete` and `categorical`: a finite list of values in the user's order."""

    def __init__(self, name: str, values: Sequence[Value], texts: Sequence[str]) -> None:
        super().__init__(name)
        self.values: tuple[Value, ...] = tuple(values)
        self._texts = tuple(texts)
        self._rank = self._ranks()

    def _ranks(self) -> dict[Any, int]:
        return {v: i for i, v in enumerate(self.values)}

    @property
    def cardinality(self) -> int:
        return len(self.values)

    def value_at(self, index: int) -> Value:
        return self.values[index]

    def index_of(self, value: Value) -> int:
        """Position of `value` in the list (raises KeyError when it is not one of the values)."""
        return self._rank[value] if value in self._rank else self._index_by_rank(value)

    def _index_by_rank(self, value: Value) -> int:
        raise KeyError(value)

    def to_unit(self, value: Value) -> float:
        return (self._unit_rank(value) + 0.5) / len(self.values)

    def _unit_rank(self, value: Value) -> int:
        return self.index_of(value)

    def from_unit(self, u: float) -> Value:
        n = len(self.values)
        return self._value_by_unit_rank(min(max(int(float(u) * n), 0), n - 1))

    def _value_by_unit_rank(self, rank: int) -> Value:
        return self.values[rank]

    def to_spec(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "parameterType": self.parameter_type,
            "feasibleSpace": {"list": list(self._texts)},
        }


class DiscreteParameter(ListParameter):
    """Katib ``discrete``: one of a list of numbers (ints stay ints, as written). Ordered by value."""

    parameter_type = "discrete"

    def __init__(self, name: str, values: Sequence[Value], texts: Sequence[str]) -> None:
        super().__init__(name, values, texts)
        self._sorted = sorted(self.values, key=as_float)
        self._sorted_rank = {v: i for i, v in enumerate(self._sorted)}

    def contains(self, value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value not in self._rank:
            return False
        return isinstance(value, int) == isinstance(self.values[self._rank[value]], int)

    def _unit_rank(self, value: Value) -> int:
        return self._sorted_rank[self.values[self.index_of(value)]]

    def _value_by_unit_rank(self, rank: int) -> Value:
        return self._sorted[rank]

    def parse(self, text: str) -> Value:
        if text in self._texts:
            return self.values[self._texts.index(text)]
        try:
            number = float(text)
        except (TypeError, ValueError):
            number = math.nan
        for v in self.values:
            if as_float(v) == number:
                return v
        raise ValueError(
            f"expected one of {list(self._texts)} for discrete parameter {self.name!r}, got {text!r}"
        )

    def coerce(self, value: object) -> Value:
        if isinstance(value, str):
            return self.parse(value)
        if not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating)):
            for v in self.values:
                if as_float(v) == float(value):
                    return v
        raise ValueError(
            f"expected one of {list(self._texts)} for discrete parameter {self.name!r}, got {value!r}"
        )


class CategoricalParameter(ListParameter):
    """Katib ``categorical``: one of a list of choices, unordered (index or one-hot encoded).

    A Katib file's choices are strings; `tuner.search.categorical` keeps each choice's Python type (int,
    float, bool, str or None), so the objective gets ``16`` and ``False``, not ``"16"`` and ``"False"``.
    The store keeps the rendered text; `parse` maps it back to the choice (choices render distinctly).
    """

    parameter_type = "categorical"

    @property
    def is_numeric(self) -> bool:
        return False

    @property
    def texts(self) -> tuple[str, ...]:
        """The choices as text, in list order (what a trial template and the store receive)."""
        return self._texts

    def _ranks(self) -> dict[Any, int]:
        # keyed by (type, value): 1, 1.0 and True are equal in Python but different choices
        return {(type(v), v): i for i, v in enumerate(self.values)}

    def contains(self, value: object) -> bool:
        return (type(value), value) in self._rank

    def index_of(self, value: Value) -> int:
        found = self._rank.get((type(value), value))
        if found is None:
            raise KeyError(value)
        return found

    def parse(self, text: str) -> Value:
        if text in self._texts:
            return self.values[self._texts.index(text)]
        raise ValueError(
            f"expected one of {list(self._texts)} for categorical parameter {self.name!r}, got {text!r}"
        )

    def coerce(self, value: object) -> Value:
        if self.contains(value):
            return value  # type: ignore[return-value]
        if isinstance(value, str):
            return self.parse(value)
        matches = [
            v
            for v in self.values
            if not isinstance(v, bool) and not isinstance(value, bool) and _same_number(v, value)
        ]
        if len(matches) == 1:
            return matches[0]
        raise ValueError(
            f"expected one of {list(self._texts)} for categorical parameter {self.name!r}, got {value!r}"
        )

    def to_spec(self) -> dict[str, Any]:
        """Katib's shape; the choices keep their Python types (a Katib file's are all strings)."""
        return {
            "name": self.name,
            "parameterType": self.parameter_type,
            "feasibleSpace": {"list": list(self.values)},
        }


def _same_number(choice: Value, value: object) -> bool:
    """Whether a categorical choice (16, or Katib's "0.5") names the number `value` (JSON sends numbers)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return float(str(choice)) == float(value)
    except ValueError:
        return False


def parse_decimal(text: str) -> Decimal:
    """Katib's number text as an exact decimal (raises ValueError for anything but a finite number)."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a finite number")
    return value


def parse_list_number(text: str) -> Value:
    """A discrete list entry: int when written as an integer ("16"), float otherwise ("0.5", "1e-3")."""
    stripped = str(text).strip()
    try:
        return int(stripped)
    except ValueError:
        pass
    return float(parse_decimal(stripped))
