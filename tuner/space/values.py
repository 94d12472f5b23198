"""Parameter values and assignments: the typed form of one trial's hyperparameters.

Katib carries every value as a string; tuner keeps them typed (``int``, ``float`` or ``str``; a categorical
built in Python may also hold ``bool`` and ``None``) while they move between the suggestion algorithms, the
controller and the store, and renders them to text only at the edge: in a trial template, an environment
variable, the store's text column or a Katib-shaped document. Rendering is exact: an int renders as ``5``
(never ``5.0``), a float as its shortest round-tripping text (``repr``), a string as written, ``True`` /
``False`` / ``None`` as Python writes them. The parameter parses the text back to the typed value (see
`tuner.space.parameters`), which is why a categorical's choices must render to distinct texts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Union

Value = Union[int, float, str, bool, None]
"""One parameter value: int for `int` parameters, float for `double`, int or float for `discrete` (as the
user wrote it); for `categorical` the choice itself: str from a Katib file, any of int, float, bool, str or
None from `tuner.search.categorical`."""


def as_float(value: Value) -> float:
    """A numeric parameter's value as a float (TypeError for None, which only a categorical holds)."""
    if value is None:
        raise TypeError("None is not a number")
    return float(value)


def render_value(value: Value) -> str:
    """The text of a value as it goes into a trial template.

    >>> render_value(5), render_value(0.1), render_value(1e-07), render_value("adam"), render_value(True)
    ('5', '0.1', '1e-07', 'adam', 'True')
    """
    if value is None or isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"a parameter value must be finite, got {value!r}")
        return repr(value)
    if isinstance(value, str):
        return value
    raise TypeError(
        f"a parameter value must be int, float, str, bool or None, got {type(value).__name__} {value!r}"
    )


class Assignment(Mapping[str, Value]):
    """One point of a search space: parameter name -> typed value, in the space's parameter order.

    Immutable and hashable, so that algorithms can compare proposals with the history in a set. Two
    assignments are equal when they hold the same names and values (``1 == 1.0`` as in Python).

    >>> a = Assignment({"lr": 0.01, "layers": 3, "optimizer": "adam"})
    >>> a["layers"], a.rendered()
    (3, {'lr': '0.01', 'layers': '3', 'optimizer': 'adam'})
    """

    __slots__ = ("_hash", "_values")

    def __init__(self, values: Mapping[str, Value] | Iterable[tuple[str, Value]] = ()) -> None:
        items = values.items() if isinstance(values, Mapping) else values
        self._values: dict[str, Value] = {}
        for name, value in items:
            render_value(value)  # type check: int, float (finite), str, bool or None
            self._values[name] = value
        self._hash: int | None = None

    def __getitem__(self, name: str) -> Value:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._values.items()))
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Assignment):
            return self._values == other._values
        if isinstance(other, Mapping):
            return self._values == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"Assignment({self._values!r})"

    def rendered(self) -> dict[str, str]:
        """name -> text, as substituted for ``${trialParameters.<name>}`` in a trial template."""
        return {name: render_value(value) for name, value in self._values.items()}

    def to_dict(self) -> dict[str, Value]:
        """A plain (JSON-able) copy."""
        return dict(self._values)
