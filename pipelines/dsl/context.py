"""The recording context: where tasks and groups go while a pipeline function's body runs.

`Pipeline.record()` creates one `PipelineContext` per recording and makes it current with
`recording(ctx)`; component calls, `dsl.ContainerOp(...)` and `with dsl.Condition(...)` find it through
`current_context()`. The current context lives in a `contextvars.ContextVar`, not in a class attribute, so
two threads (or two nested recordings) never see each other's tasks. This module records; it does not
check references (the compiler does) and it does not run anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pipelines.dsl.channels import Condition

if TYPE_CHECKING:
    from pipelines.dsl.tasks import PipelineTask

_CURRENT: ContextVar[PipelineContext | None] = ContextVar("pipelines_dsl_context", default=None)


def sanitize_name(name: str) -> str:
    """A Kubernetes-style name: lowercase letters, digits and dashes ("Calculation pipeline" -> "calculation-pipeline")."""
    cleaned = re.sub(r"[^a-z0-9-]+", "-", name.lower())
    cleaned = re.sub(r"-+", "-", cleaned).strip("-")
    return cleaned or "unnamed"


@dataclass
class GroupRecord:
    """A `with` block of the pipeline body, as recorded."""

    name: str
    kind: str  # "condition" | "exitHandler" | "parallelFor" | "subGraph" | "graph"
    parent: str | None
    condition: Condition | None = None
    exit_task: str | None = None
    items: dict[str, Any] | None = None
    parallelism: int | None = None
    display_name: str | None = None
    inputs: dict[str, Any] | None = None  # a graph component call: its arguments as IR references
    recursive_ref: str | None = None  # a graph component calling itself: the body it runs again
    source: Any = None  # a graph component call: the GraphComponent (to recognise a recursive call)


def _new_conf() -> Any:
    from pipelines.dsl.conf import PipelineConf

    return PipelineConf()


@dataclass
class PipelineContext:
    """Everything recorded while one pipeline body runs, in definition order."""

    pipeline_name: str
    tasks: dict[str, PipelineTask] = field(default_factory=dict)
    groups: dict[str, GroupRecord] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    conf: Any = field(default_factory=lambda: _new_conf())
    _stack: list[str] = field(default_factory=list)
    _counters: dict[str, int] = field(default_factory=dict)
    # For dsl.Elif/dsl.Else: the conditions of the If/Elif chain that just closed, per parent group.
    _branch_chains: dict[str | None, list[Condition]] = field(default_factory=dict)

    @property
    def current_group(self) -> str | None:
        """The innermost open group, None at the top level."""
        return self._stack[-1] if self._stack else None

    def add_task(self, task: PipelineTask, base_name: str) -> str:
        """Register a task under a unique name (`print-op`, `print-op-2`, ...) and return the name."""
        name = sanitize_name(base_name)
        unique, n = name, 1
        while unique in self.tasks:
            n += 1
            unique = f"{name}-{n}"
        self.tasks[unique] = task
        self._branch_chains.pop(self.current_group, None)
        return unique

    def open_group(self, kind: str, prefix: str, name: str | None = None, **attrs: Any) -> GroupRecord:
        """Create a group inside the current one and make it current."""
        # One counter for every kind of group, as KFP numbers them (`exit-handler-1`, then `condition-2`).
        count = self._counters.get("", 0) + 1
        self._counters[""] = count
        group = GroupRecord(
            name=f"{prefix}-{count}", kind=kind, parent=self.current_group, display_name=name, **attrs
        )
        self.groups[group.name] = group
        self._stack.append(group.name)
        return group

    def add_recursion(self, target: GroupRecord, inputs: dict[str, Any]) -> GroupRecord:
        """Record a graph component calling itself inside its own body (`target`): a group without tasks,
        named after the body it runs again. KFP numbers no new group for it, so neither does this."""
        base = f"{target.name}-recursion"
        name, n = base, 1
        while name in self.groups:
            n += 1
            name = f"{base}-{n}"
        group = GroupRecord(
            name=name,
            kind="graph",
            parent=self.current_group,
            display_name=target.display_name,
            inputs=inputs,
            recursive_ref=target.name,
        )
        self.groups[name] = group
        self._branch_chains.pop(self.current_group, None)
        return group

    def open_groups(self) -> list[GroupRecord]:
        """The groups being recorded into, outermost first."""
        return [self.groups[name] for name in self._stack]

    def close_group(self, group: GroupRecord) -> None:
        """Leave a group (the innermost one)."""
        if not self._stack or self._stack[-1] != group.name:
            raise RuntimeError(f"group {group.name} closed out of order")
        self._stack.pop()

    def branch_chain(self) -> list[Condition] | None:
        """The conditions of the If/Elif chain that closed last at the current level, if any."""
        return self._branch_chains.get(self.current_group)

    def set_branch_chain(self, chain: list[Condition] | None) -> None:
        """Remember (or forget) the If/Elif chain at the current level, for a following Elif/Else."""
        if chain is None:
            self._branch_chains.pop(self.current_group, None)
        else:
            self._branch_chains[self.current_group] = chain

    def is_inside(self, group: str | None, ancestor: str) -> bool:
        """True when `group` is `ancestor` or nested in it."""
        while group is not None:
            if group == ancestor:
                return True
            group = self.groups[group].parent
        return False


def current_context() -> PipelineContext:
    """The context being recorded into.

    Raises:
        RuntimeError: no pipeline is being recorded (a component was called outside a pipeline).
    """
    ctx = _CURRENT.get()
    if ctx is None:
        raise RuntimeError(
            "components and dsl.ContainerOp can only be used inside a pipeline function: decorate the function "
            "with @dsl.pipeline and compile or run it (Compiler().compile, run_pipeline_func_locally)"
        )
    return ctx


def current_context_or_none() -> PipelineContext | None:
    """The context being recorded into, or None outside a pipeline body."""
    return _CURRENT.get()


@contextmanager
def recording(ctx: PipelineContext) -> Iterator[PipelineContext]:
    """Make `ctx` current for the duration of the block."""
    token = _CURRENT.set(ctx)
    try:
        yield ctx
    finally:
        _CURRENT.reset(token)
