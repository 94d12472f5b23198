"""Placeholders for values that exist only when a pipeline runs: pipeline parameters, task outputs, loop
items and collected fan-in lists.

While a pipeline function is being recorded, `task.output` or a pipeline parameter is a `Channel`, not a
value. A channel turns into a reference in the IR (`{"task": ..., "output": ...}`); formatted into a string
(`"heads and %s" % task.output`) it becomes a `{{tasks.NAME.outputs.OUT}}` token that the runner replaces
with the real value; compared with `==`, `>` and friends it becomes a condition for `dsl.Condition`/`dsl.If`.
This module knows nothing about tasks or contexts: `pipelines.dsl.tasks` creates the channels.
"""

from __future__ import annotations

import json
from typing import Any

from pipelines.compiler.ir import TOKEN_PATTERN, placeholder, ref_from_token

__all__ = ["TOKEN_PATTERN", "ref_from_token"]


class Channel:
    """A value known only at run time. Subclasses say where it comes from."""

    type: str | None = None

    @property
    def token(self) -> str:
        """How the channel prints inside strings."""
        raise NotImplementedError

    def ref(self) -> dict[str, Any]:
        """The IR reference to this value."""
        raise NotImplementedError

    def __str__(self) -> str:
        return self.token

    def __format__(self, format_spec: str) -> str:
        return self.token

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.token}>"

    def __hash__(self) -> int:
        return id(self)

    def __bool__(self) -> bool:
        raise TypeError(
            f"{self.token} has no value while the pipeline is being defined; branch on it with "
            "`with dsl.Condition(...)` or `with dsl.If(...)` instead of `if`"
        )

    # Comparisons build conditions (KFP's ConditionOperator), they do not compare now.
    def __eq__(self, other: object) -> Comparison:  # type: ignore[override]
        return Comparison("==", self, other)

    def __ne__(self, other: object) -> Comparison:  # type: ignore[override]
        return Comparison("!=", self, other)

    def __lt__(self, other: object) -> Comparison:
        return Comparison("<", self, other)

    def __le__(self, other: object) -> Comparison:
        return Comparison("<=", self, other)

    def __gt__(self, other: object) -> Comparison:
        return Comparison(">", self, other)

    def __ge__(self, other: object) -> Comparison:
        return Comparison(">=", self, other)


class PipelineInputChannel(Channel):
    """A parameter of the pipeline function."""

    def __init__(self, name: str, type_: str | None) -> None:
        self.name = name
        self.type = type_

    @property
    def token(self) -> str:
        return placeholder(f"inputs.{self.name}")

    def ref(self) -> dict[str, Any]:
        return {"input": self.name}


class TaskOutputChannel(Channel):
    """One output of a task (KFP v1 `PipelineParam` with `op_name`)."""

    def __init__(self, task_name: str, output: str, type_: str | None) -> None:
        self.task_name = task_name
        self.name = output
        self.type = type_

    @property
    def op_name(self) -> str:
        """KFP v1 spelling of the producing task's name."""
        return self.task_name

    @property
    def token(self) -> str:
        return placeholder(f"tasks.{self.task_name}.outputs.{self.name}")

    def ref(self) -> dict[str, Any]:
        return {"task": self.task_name, "output": self.name}


class LoopItemChannel(Channel):
    """The current item of a `dsl.ParallelFor`; `item.field` picks a key of a dict item."""

    def __init__(self, group: str, field: str | None = None) -> None:
        self.group = group
        self.field = field

    @property
    def token(self) -> str:
        suffix = f".{self.field}" if self.field else ""
        return placeholder(f"loops.{self.group}.item{suffix}")

    def ref(self) -> dict[str, Any]:
        ref: dict[str, Any] = {"loopItem": self.group}
        if self.field:
            ref["field"] = self.field
        return ref

    def __getattr__(self, name: str) -> LoopItemChannel:
        if name.startswith("_") or self.field is not None:
            raise AttributeError(name)
        return LoopItemChannel(self.group, name)


class CollectedChannel(Channel):
    """All iterations' values of an output produced inside a `dsl.ParallelFor` (KFP v2 `dsl.Collected`)."""

    type = "list"

    def __init__(self, output: TaskOutputChannel) -> None:
        if not isinstance(output, TaskOutputChannel):
            raise TypeError(f"dsl.Collected takes a task output (task.output), got {output!r}")
        self.output = output

    @property
    def token(self) -> str:
        raise TypeError("dsl.Collected(...) cannot be formatted into a string; pass it as an argument")

    def __str__(self) -> str:
        return f"Collected({self.output.token})"

    def ref(self) -> dict[str, Any]:
        return {"collected": self.output.ref()}


class OneOfChannel(Channel):
    """KFP v2 `dsl.OneOf(a.output, b.output)`: the output of whichever If/Elif/Else branch ran."""

    def __init__(self, channels: tuple[Channel, ...]) -> None:
        if len(channels) < 2 or not all(isinstance(c, TaskOutputChannel) for c in channels):
            raise TypeError("dsl.OneOf takes two or more task outputs, one from each dsl.If/Elif/Else branch")
        self.channels = channels
        self.type = channels[0].type

    @property
    def token(self) -> str:
        raise TypeError("dsl.OneOf(...) cannot be formatted into a string; pass it as an argument")

    def __str__(self) -> str:
        return "OneOf(" + ", ".join(c.token for c in self.channels) + ")"

    def ref(self) -> dict[str, Any]:
        return {"oneOf": [c.ref() for c in self.channels]}


class Condition:
    """A boolean expression over channels and constants, evaluated by the runner on real values."""

    def to_ir(self) -> dict[str, Any]:
        """The IR form of the expression."""
        raise NotImplementedError

    def __bool__(self) -> bool:
        raise TypeError(
            "a pipeline condition has no value while the pipeline is being defined; "
            "use it in `with dsl.Condition(...)` or `with dsl.If(...)`"
        )


class Comparison(Condition):
    """`left OP right` with OP one of == != < <= > >=."""

    def __init__(self, op: str, left: object, right: object) -> None:
        self.op = op
        self.left = left
        self.right = right

    # KFP v1 names
    @property
    def operator(self) -> str:
        return self.op

    @property
    def operand1(self) -> object:
        return self.left

    @property
    def operand2(self) -> object:
        return self.right

    def to_ir(self) -> dict[str, Any]:
        return {"op": self.op, "left": value_ref(self.left), "right": value_ref(self.right)}

    def __repr__(self) -> str:
        return f"{_show(self.left)} {self.op} {_show(self.right)}"


class Not(Condition):
    """Negation, used for `dsl.Elif`/`dsl.Else` branches."""

    def __init__(self, inner: Condition) -> None:
        self.inner = inner

    def to_ir(self) -> dict[str, Any]:
        return {"not": self.inner.to_ir()}


class All(Condition):
    """Conjunction, used for `dsl.Elif`/`dsl.Else` branches."""

    def __init__(self, parts: list[Condition]) -> None:
        self.parts = parts

    def to_ir(self) -> dict[str, Any]:
        return {"all": [p.to_ir() for p in self.parts]}


def _show(value: object) -> str:
    return (
        value.token
        if isinstance(value, Channel) and not isinstance(value, (CollectedChannel, OneOfChannel))
        else repr(value)
    )


def value_ref(value: object) -> dict[str, Any]:
    """The IR reference for an argument: a channel, a string with channel tokens, or a JSON constant.

    Raises:
        TypeError: the value is neither a channel nor JSON-serialisable.
    """
    if isinstance(value, Channel):
        return value.ref()
    if isinstance(value, str) and TOKEN_PATTERN.search(value):
        return {"template": value}
    if isinstance(value, Condition):
        raise TypeError("a condition cannot be passed as an argument; use it in dsl.Condition/dsl.If")
    if _contains_channel(value):
        raise TypeError(
            "task outputs nested inside a list or dict argument are not supported; pass them directly"
        )
    try:
        json.dumps(value, allow_nan=True)
    except TypeError as exc:
        raise TypeError(
            f"argument {value!r} of type {type(value).__name__} cannot be passed to a task; "
            "use a str, int, float, bool, list, dict or None, or a task output"
        ) from exc
    return {"value": value}


def _contains_channel(value: object) -> bool:
    if isinstance(value, (list, tuple)):
        return any(isinstance(v, Channel) or _contains_channel(v) for v in value)
    if isinstance(value, dict):
        return any(isinstance(v, Channel) or _contains_channel(v) for v in value.values())
    return False
