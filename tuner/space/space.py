"""The search space of an experiment: its typed parameters, in the order the spec lists them.

Built once from Katib's `spec.parameters` (`SearchSpace.from_parameters`) or from its JSON form
(`SearchSpace.from_dict`, the same shape, used by the HTTP suggestion API). Suggestion algorithms use it
to sample, to move between assignments and the unit hypercube (index or one-hot encoding), to enumerate
grids and to check membership; the controller uses it to parse stored assignments and to render values
into trial templates. What a parameter may be is decided once, by `tuner.spec.parameter_rules` (the
experiment's validation applies the same rules): a space refuses what they refuse, with their words.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np

from tuner.errors import Problem, SpecError
from tuner.space.parameters import (
    CategoricalParameter,
    DiscreteParameter,
    DoubleParameter,
    IntParameter,
    ListParameter,
    NumericRange,
    Parameter,
    parse_decimal,
    parse_list_number,
)
from tuner.space.values import Assignment, Value, as_float, render_value
from tuner.spec.parameter_rules import check_parameters
from tuner.spec.parameters import PYTHON_VALUES, Distribution, ParameterSpec, ParameterType, number_text
from tuner.spec.paths import covers, join, split_path
from tuner.spec.structure import parse_model


class SearchSpace(Sequence[Parameter]):
    """An ordered, immutable collection of uniquely named parameters.

    >>> space = SearchSpace.from_dict([
    ...     {"name": "lr", "parameterType": "double",
    ...      "feasibleSpace": {"min": "0.001", "max": "0.1", "distribution": "logUniform"}},
    ...     {"name": "layers", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "4"}},
    ... ])
    >>> a = space.from_unit([1.0, 0.0])
    >>> a.rendered(), space.contains(a)
    ({'lr': '0.1', 'layers': '1'}, True)
    """

    def __init__(self, parameters: Iterable[Parameter]) -> None:
        self._params = tuple(parameters)
        self._by_name = {p.name: p for p in self._params}
        if len(self._by_name) != len(self._params):
            names = [p.name for p in self._params]
            dupes = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"parameter names must be unique, repeated: {dupes}")
        self._digest: str | None = None

    # -- construction -------------------------------------------------------------------------------
    @classmethod
    def from_parameters(cls, parameters: Iterable[Any], path: str = "spec.parameters") -> SearchSpace:
        """Build from Katib parameter specs: `tuner.spec.parameters.ParameterSpec` objects or their JSON
        dicts (anything with name / parameter_type / feasible_space, or the camelCase keys).

        Raises:
            SpecError: listing every field that cannot be read (e.g. a min that is not a number), each
                named by its path, e.g. ``spec.parameters[1].feasibleSpace.min``.
        """
        specs: list[ParameterSpec] = []
        problems: list[Problem] = []
        reported: list[str] = []  # paths whose shape is wrong: the rules' problems under them are dropped
        for i, raw in enumerate(parameters):
            where = f"{path}[{i}]"
            spec, shape, bad_paths = _as_parameter_spec(raw)
            problems += [Problem(join(where, p.path), p.message) for p in shape]
            reported += [join(where, bad) for bad in bad_paths]
            specs.append(spec)
        problems += [
            p for p in check_parameters(specs, path) if not any(covers(bad, p.path) for bad in reported)
        ]
        if not problems and not specs:
            problems.append(Problem(path, "at least one parameter is needed"))
        if problems:
            raise SpecError(sorted(problems, key=lambda p: split_path(p.path[len(path) :])[:1]))
        return cls(_build_parameter(spec) for spec in specs)

    @classmethod
    def from_dict(cls, document: Sequence[Mapping[str, Any]], path: str = "parameters") -> SearchSpace:
        """Build from the JSON form written by `to_dict` (Katib's `spec.parameters` list)."""
        if isinstance(document, (str, bytes)) or not isinstance(document, Sequence):
            raise SpecError([Problem(path, f"expected a list of parameters, got {type(document).__name__}")])
        return cls.from_parameters(document, path=path)

    def to_dict(self) -> list[dict[str, Any]]:
        """JSON form: Katib's `spec.parameters` list, numbers as the strings they were written as."""
        return [p.to_spec() for p in self._params]

    def digest(self) -> str:
        """A short stable hash of the space, for cache keys."""
        if self._digest is None:
            text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
            self._digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        return self._digest

    # -- sequence protocol --------------------------------------------------------------------------
    def __getitem__(self, key: int | str) -> Parameter:  # type: ignore[override]
        return self._by_name[key] if isinstance(key, str) else self._params[key]

    def __len__(self) -> int:
        return len(self._params)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self._params)

    def __contains__(self, item: object) -> bool:
        return item in self._by_name if isinstance(item, str) else item in self._params

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SearchSpace) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(self.digest())

    def __repr__(self) -> str:
        return f"SearchSpace({', '.join(f'{p.name}:{p.parameter_type}' for p in self._params)})"

    @property
    def names(self) -> list[str]:
        """Parameter names in order."""
        return [p.name for p in self._params]

    # -- finite spaces ------------------------------------------------------------------------------
    @property
    def size(self) -> int | None:
        """Number of distinct assignments (the grid size), or None if a parameter is continuous."""
        total = 1
        for p in self._params:
            if p.cardinality is None:
                return None
            total *= p.cardinality
        return total

    def point_at(self, index: int) -> Assignment:
        """The `index`-th grid point (mixed radix, the last parameter varying fastest)."""
        size = self.size
        if size is None:
            raise TypeError("the space has a continuous parameter: it has no grid")
        if not 0 <= index < size:
            raise IndexError(f"grid index {index} out of range for a grid of {size} points")
        values: list[Value] = []
        for p in reversed(self._params):
            assert p.cardinality is not None
            index, digit = divmod(index, p.cardinality)
            values.append(p.value_at(digit))
        return Assignment(zip(self.names, reversed(values), strict=True))

    def index_of(self, assignment: Mapping[str, Value]) -> int | None:
        """Grid index of an assignment, or None if it is not a grid point of this space."""
        if self.size is None or not self.contains(assignment):
            return None
        index = 0
        for p in self._params:
            assert p.cardinality is not None
            index = index * p.cardinality + _grid_digit(p, assignment[p.name])
        return index

    # -- sampling and transforms --------------------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> Assignment:
        """One assignment drawn from the parameters' priors."""
        return Assignment((p.name, p.sample(rng)) for p in self._params)

    def from_quantiles(self, q: Sequence[float]) -> Assignment:
        """The assignment at prior quantiles `q` (one per parameter); maps quasi-random points."""
        self._check_width(q, len(self._params))
        return Assignment((p.name, p.from_quantile(float(x))) for p, x in zip(self._params, q, strict=True))

    def to_unit(self, assignment: Mapping[str, Value]) -> np.ndarray:
        """The point of [0, 1]^d of an assignment (index encoding: one coordinate per parameter)."""
        return np.array([p.to_unit(assignment[p.name]) for p in self._params], dtype=float)

    def from_unit(self, u: Sequence[float]) -> Assignment:
        """The assignment at a point of [0, 1]^d (clipped; snapped to steps and lists)."""
        self._check_width(u, len(self._params))
        return Assignment((p.name, p.from_unit(float(x))) for p, x in zip(self._params, u, strict=True))

    @property
    def one_hot_width(self) -> int:
        """Width of the one-hot encoding: one column per category, one per other parameter."""
        return sum(p.cardinality if isinstance(p, CategoricalParameter) else 1 for p in self._params)

    def to_one_hot(self, assignment: Mapping[str, Value]) -> np.ndarray:
        """Unit encoding with each categorical parameter as a one-hot block instead of an index."""
        out: list[float] = []
        for p in self._params:
            v = assignment[p.name]
            if isinstance(p, CategoricalParameter):
                block = [0.0] * p.cardinality
                block[p.index_of(v)] = 1.0
                out.extend(block)
            else:
                out.append(p.to_unit(v))
        return np.array(out, dtype=float)

    def from_one_hot(self, x: Sequence[float]) -> Assignment:
        """Inverse of `to_one_hot`; a categorical block decodes to its largest entry."""
        self._check_width(x, self.one_hot_width)
        values: list[tuple[str, Value]] = []
        pos = 0
        for p in self._params:
            if isinstance(p, CategoricalParameter):
                block = np.asarray(x[pos : pos + p.cardinality], dtype=float)
                values.append((p.name, p.value_at(int(np.argmax(block)))))
                pos += p.cardinality
            else:
                values.append((p.name, p.from_unit(float(x[pos]))))
                pos += 1
        return Assignment(values)

    # -- membership, parsing, rendering -------------------------------------------------------------
    def contains(self, assignment: Mapping[str, Value]) -> bool:
        """Whether `assignment` names exactly this space's parameters, each with an allowed value."""
        return self.why_not(assignment) is None

    def why_not(self, assignment: Mapping[str, Value]) -> str | None:
        """Why `assignment` is not a point of this space, or None if it is."""
        missing = [n for n in self.names if n not in assignment]
        extra = [n for n in assignment if n not in self._by_name]
        if missing or extra:
            return f"parameters missing: {missing}, unknown: {extra}"
        for p in self._params:
            if not p.contains(assignment[p.name]):
                return f"{p.name}={assignment[p.name]!r} is not an allowed value of {p!r}"
        return None

    def parse(self, rendered: Mapping[str, str]) -> Assignment:
        """Typed assignment from its text form (as stored, or as Katib's parameterAssignments carry it).

        Raises:
            SpecError: naming each parameter whose text does not parse; unknown and missing names.
        """
        return self._convert(rendered, lambda p, v: p.parse(v))

    def coerce(self, values: Mapping[str, object]) -> Assignment:
        """Typed assignment from Python or JSON values (numbers or strings); SpecError as `parse`."""
        return self._convert(values, lambda p, v: p.coerce(v))

    def render(self, assignment: Mapping[str, Value]) -> dict[str, str]:
        """name -> text for trial templates (ints as ``5``, floats exactly, categories as given)."""
        return {p.name: p.render(assignment[p.name]) for p in self._params}

    def _convert(self, values: Mapping[str, Any], convert: Any) -> Assignment:
        problems = [
            Problem(name, "is not a parameter of the search space") for name in values if name not in self
        ]
        out: list[tuple[str, Value]] = []
        for p in self._params:
            if p.name not in values:
                problems.append(Problem(p.name, "has no value"))
                continue
            try:
                out.append((p.name, convert(p, values[p.name])))
            except ValueError as exc:
                problems.append(Problem(p.name, str(exc)))
        if problems:
            raise SpecError(problems)
        return Assignment(out)

    @staticmethod
    def _check_width(x: Sequence[float], width: int) -> None:
        if len(x) != width:
            raise ValueError(f"expected a point with {width} coordinates, got {len(x)}")


def _grid_digit(p: Parameter, value: Value) -> int:
    if isinstance(p, ListParameter):
        return p.index_of(value)
    assert isinstance(p, NumericRange) and p.step is not None
    return round((as_float(value) - p.low) / p.step)


# -- building parameters from Katib specs ---------------------------------------------------------------
# What a parameter may be is `tuner.spec.parameter_rules`' alone (the experiment's validation uses the same
# rules, so both refuse the same things with the same words); here, checked specs become parameters.


def _as_parameter_spec(raw: Any) -> tuple[ParameterSpec, list[Problem], list[str]]:
    """A parameter as the spec's model, with the shape problems of a JSON dict (paths relative to it)."""
    if isinstance(raw, ParameterSpec):
        return raw, [], []
    if not isinstance(raw, Mapping):
        problem = Problem("", f"expected a mapping with name, parameterType and feasibleSpace, got {raw!r}")
        return _PLACEHOLDER, [problem], [""]
    # Stored specs of Python-built experiments keep typed categorical choices (see tuner.spec.parameters).
    spec, problems, reported = parse_model(ParameterSpec, dict(raw), context={PYTHON_VALUES: True})
    return spec or _PLACEHOLDER, problems, reported


_PLACEHOLDER = ParameterSpec(name="", parameterType=ParameterType.UNKNOWN)  # stands in for a shapeless entry


def _build_parameter(spec: ParameterSpec) -> Parameter:
    """The parameter of a spec that passed `check_parameters` (so every number parses)."""
    space = spec.feasible_space
    kind = spec.parameter_type
    if kind is ParameterType.CATEGORICAL:
        choices = list(space.list_ or [])  # typed when the spec was built in Python, else Katib's text
        return CategoricalParameter(spec.name, choices, [render_value(v) for v in choices])
    if kind is ParameterType.DISCRETE:
        listed = [v if isinstance(v, str) else str(number_text(v)) for v in space.list_ or []]
        return DiscreteParameter(spec.name, [parse_list_number(t) for t in listed], listed)
    texts: dict[str, str] = {f: text for f in ("min", "max", "step") if (text := getattr(space, f))}
    if space.distribution is not None:
        texts["distribution"] = space.distribution.value
    low, high = parse_decimal(texts["min"]), parse_decimal(texts["max"])
    step = parse_decimal(texts["step"]) if "step" in texts else None
    distribution = space.distribution or Distribution.UNIFORM
    if kind is ParameterType.INT:
        return IntParameter(
            spec.name, low, high, step if step is not None else Decimal(1), distribution, texts
        )
    return DoubleParameter(spec.name, low, high, step, distribution, texts)
