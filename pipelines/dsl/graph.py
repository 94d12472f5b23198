"""KFP v1 `@dsl.graph_component`: a function whose body (tasks, conditions, loops) is recorded in place
wherever it is called inside a pipeline, inside a `graph` group named as KFP 1.8 names it
(`graph-<function>-<n>`, numbered with the other groups). The call returns an object standing for all its
tasks (`.after(...)`, `other.after(it)`, `.output` when the body returns a task output), as a pipeline
called inside a pipeline does (`pipelines.dsl.nested`).

Recursion, as KFP's recursion sample writes it: the body calls its own graph component again, under a
`dsl.Condition`. The inner call is not recorded again (that would never end); it becomes a group without
tasks that points back at the body (`recursive_ref`) and holds the new arguments. The local runner runs the
body once more each time that group's conditions hold, the new arguments standing for the old ones, up to
a depth limit; the Argo target compiles the body to a DAG template that calls itself, as kfp 1.8 does.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from pipelines.dsl.channels import value_ref
from pipelines.dsl.context import current_context_or_none, sanitize_name
from pipelines.dsl.nested import NestedPipelineTask


class GraphComponent:
    """What `@dsl.graph_component` makes of a function."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        self.name = func.__name__
        functools.update_wrapper(self, func)

    def __repr__(self) -> str:
        return f"<graph_component {self.name}>"

    def _bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        try:
            bound = inspect.signature(self.func).bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"graph component {self.name!r}: {exc}") from None
        bound.apply_defaults()
        return dict(bound.arguments)

    def __call__(self, *args: Any, **kwargs: Any) -> NestedPipelineTask:
        ctx = current_context_or_none()
        if ctx is None:
            raise TypeError(
                f"graph component {self.name!r} can only be called inside a pipeline function "
                "(decorated with @dsl.pipeline)"
            )
        bound = self._bind(args, kwargs)
        inputs: dict[str, Any] = {}
        for key, value in bound.items():
            try:
                inputs[key] = value_ref(value)
            except TypeError as exc:
                raise TypeError(f"graph component {self.name!r}: argument {key!r}: {exc}") from None
        for group in reversed(ctx.open_groups()):
            if group.kind == "graph" and group.source is self:
                recursion = ctx.add_recursion(group, inputs)
                return NestedPipelineTask(recursion.name, [], None)
        before = set(ctx.tasks)
        ctx.set_branch_chain(None)
        group = ctx.open_group(
            "graph", f"graph-{sanitize_name(self.name)}", self.name, inputs=inputs, source=self
        )
        try:
            returned = self.func(**bound)
        finally:
            ctx.close_group(group)
        tasks = [task for name, task in ctx.tasks.items() if name not in before]
        return NestedPipelineTask(self.name, tasks, returned)


def graph_component(func: Callable[..., Any]) -> GraphComponent:
    """KFP v1 `@dsl.graph_component`; see the module docstring."""
    return GraphComponent(func)
