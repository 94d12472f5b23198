"""KFP v1 `@dsl.graph_component`: a function whose body (tasks, conditions, loops) is recorded in place
wherever it is called inside a pipeline; the call returns an object standing for all its tasks
(`.after(...)`, `other.after(it)`, `.output` when the body returns a task output), as a pipeline called
inside a pipeline does (`pipelines.dsl.nested`).

Recursion (the function calling itself, guarded by a `dsl.Condition`, as KFP's recursion sample does)
is refused with a clear error when the pipeline is loaded: the graph would have to grow while the run
goes (locally) or compile to a recursive DAG template (on Argo), and neither is done yet.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from pipelines.dsl.context import current_context_or_none
from pipelines.dsl.nested import NestedPipelineTask

# The graph components whose bodies are being recorded, outermost first (per thread of recording).
_EXPANDING: ContextVar[tuple[str, ...]] = ContextVar("graph_components_expanding", default=())


class GraphComponent:
    """What `@dsl.graph_component` makes of a function."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        self.name = func.__name__
        functools.update_wrapper(self, func)

    def __repr__(self) -> str:
        return f"<graph_component {self.name}>"

    def __call__(self, *args: Any, **kwargs: Any) -> NestedPipelineTask:
        ctx = current_context_or_none()
        if ctx is None:
            raise TypeError(
                f"graph component {self.name!r} can only be called inside a pipeline function "
                "(decorated with @dsl.pipeline)"
            )
        expanding = _EXPANDING.get()
        if self.name in expanding:
            chain = " -> ".join([*expanding, self.name])
            raise TypeError(
                f"graph component {self.name!r} calls itself ({chain}): recursive graph components are not "
                "supported yet (the graph would grow while the run goes); unroll the recursion to a fixed "
                "depth or loop with dsl.ParallelFor"
            )
        before = set(ctx.tasks)
        token = _EXPANDING.set((*expanding, self.name))
        try:
            returned = self.func(*args, **kwargs)
        finally:
            _EXPANDING.reset(token)
        tasks = [task for name, task in ctx.tasks.items() if name not in before]
        return NestedPipelineTask(self.name, tasks, returned)


def graph_component(func: Callable[..., Any]) -> GraphComponent:
    """KFP v1 `@dsl.graph_component`; see the module docstring."""
    return GraphComponent(func)
