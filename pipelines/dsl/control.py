"""Control flow inside a pipeline function: `dsl.Condition` (KFP v1, nests), `dsl.If`/`Elif`/`Else`
(KFP v2), `dsl.ExitHandler`, `dsl.ParallelFor`, `dsl.SubGraph` (KFP v1) and `dsl.Collected`.

Each `with` block opens a group in the recording context; tasks created inside belong to it. The
conditions are recorded as expressions over channels and evaluated by the runner on the real upstream
outputs. Nothing is decided while recording.
"""

from __future__ import annotations

import builtins
from types import TracebackType
from typing import Any, ClassVar

from pipelines.dsl.channels import (
    All,
    Channel,
    CollectedChannel,
    LoopItemChannel,
    Not,
    OneOfChannel,
    PipelineInputChannel,
    TaskOutputChannel,
)
from pipelines.dsl.channels import (
    Condition as ConditionExpression,
)
from pipelines.dsl.context import GroupRecord, PipelineContext, current_context
from pipelines.dsl.tasks import PipelineTask


class OpsGroup:
    """KFP v1 `dsl.OpsGroup`: the base of the `with` blocks (`Condition`, `ExitHandler`, `ParallelFor`,
    `SubGraph`, ...); each opens one group in the current recording context. As in KFP it is not used
    directly in a pipeline: `isinstance(x, dsl.OpsGroup)` and `.type` are what code reads of it."""

    kind = ""
    prefix = ""
    _kfp_types: ClassVar[dict[str, str]] = {
        "condition": "condition",
        "exitHandler": "exit_handler",
        "parallelFor": "for_loop",
    }

    def __init__(self, name: str | None = None, **attrs: Any) -> None:
        self._name = name
        self._attrs = attrs
        self._ctx: PipelineContext | None = None
        self.group: GroupRecord | None = None

    @property
    def type(self) -> str:
        """KFP v1's name for the kind of group ("condition", "exit_handler", "for_loop", "subgraph")."""
        return self._kfp_types.get(self.kind, self.kind.lower())

    def __enter__(self) -> Any:
        if not self.kind:
            raise TypeError(
                "dsl.OpsGroup is the base of dsl.Condition, dsl.ExitHandler, dsl.ParallelFor and dsl.SubGraph; "
                "use one of those in `with`"
            )
        self._ctx = current_context()
        self._before_open(self._ctx)
        self.group = self._ctx.open_group(self.kind, self.prefix, self._name, **self._attrs)
        return self._entered()

    def __exit__(
        self,
        exc_type: builtins.type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._ctx is not None and self.group is not None
        self._ctx.close_group(self.group)
        self._after_close(self._ctx)

    def _before_open(self, ctx: PipelineContext) -> None:
        ctx.set_branch_chain(None)

    def _after_close(self, ctx: PipelineContext) -> None:
        pass

    def _entered(self) -> Any:
        return self

    @property
    def name(self) -> str | None:
        """The group's generated name (`condition-1`, ...) once entered."""
        return self.group.name if self.group else None


def _checked_condition(condition: Any, where: str) -> ConditionExpression:
    if isinstance(condition, ConditionExpression):
        return condition
    if isinstance(condition, Channel):
        # `dsl.If(task.output)` tests the value's truth: compare with True.
        return _truthy(condition)
    raise TypeError(
        f"{where} takes a comparison of a task output or pipeline parameter, such as "
        f"`task.output == 'heads'` or `task.output > 5`; got {condition!r}"
    )


def _truthy(channel: Channel) -> ConditionExpression:
    from pipelines.dsl.channels import Comparison

    return Comparison("==", channel, True)


class SubGraph(OpsGroup):
    """KFP v1 `with dsl.SubGraph(parallelism=2):` — the block's tasks run at most `parallelism` at once
    (locally; on Argo a DAG template with `parallelism`). Inside a loop, each iteration counts apart."""

    kind = "subGraph"
    prefix = "subgraph"

    def __init__(self, parallelism: int, name: str | None = None) -> None:
        if isinstance(parallelism, bool) or not isinstance(parallelism, int) or parallelism < 1:
            raise ValueError(f"dsl.SubGraph: parallelism must be a whole number >= 1, got {parallelism!r}")
        self.parallelism = parallelism
        super().__init__(name, parallelism=parallelism)


class Condition(OpsGroup):
    """KFP v1 `with dsl.Condition(task.output == 'heads'):` — the block runs only when true; nests."""

    kind = "condition"
    prefix = "condition"

    def __init__(self, condition: Any, name: str | None = None) -> None:
        self.expression = _checked_condition(condition, type(self).__name__)
        super().__init__(name, condition=self.expression)


class If(Condition):
    """KFP v2 `with dsl.If(...)`; may be followed by `dsl.Elif` and `dsl.Else`."""

    def _after_close(self, ctx: PipelineContext) -> None:
        ctx.set_branch_chain([self.expression])


class Elif(Condition):
    """KFP v2 `with dsl.Elif(...)`: runs when every earlier branch was false and this one is true."""

    def __init__(self, condition: Any, name: str | None = None) -> None:
        self._own = _checked_condition(condition, "Elif")
        self._chain: list[ConditionExpression] = []
        OpsGroup.__init__(self, name)

    def _before_open(self, ctx: PipelineContext) -> None:
        chain = ctx.branch_chain()
        if chain is None:
            raise SyntaxError("dsl.Elif must directly follow a dsl.If or dsl.Elif block at the same level")
        self._chain = chain
        self.expression = All([*(Not(c) for c in chain), self._own])
        self._attrs = {"condition": self.expression}
        ctx.set_branch_chain(None)

    def _after_close(self, ctx: PipelineContext) -> None:
        ctx.set_branch_chain([*self._chain, self._own])


class Else(OpsGroup):
    """KFP v2 `with dsl.Else():` runs when every earlier If/Elif branch was false."""

    kind = "condition"
    prefix = "condition"

    def _before_open(self, ctx: PipelineContext) -> None:
        chain = ctx.branch_chain()
        if chain is None:
            raise SyntaxError("dsl.Else must directly follow a dsl.If or dsl.Elif block at the same level")
        negated: list[ConditionExpression] = [Not(c) for c in chain]
        self.expression: ConditionExpression = negated[0] if len(negated) == 1 else All(negated)
        self._attrs = {"condition": self.expression}
        ctx.set_branch_chain(None)


class ExitHandler(OpsGroup):
    """`with dsl.ExitHandler(exit_task):` — `exit_task` runs after the block, whether it failed or not.

    The run still ends Failed when a task inside failed. `exit_task` must have been created just before,
    at the same level, and must not be used as an exit task twice.
    """

    kind = "exitHandler"
    prefix = "exit-handler"

    def __init__(self, exit_op: PipelineTask, name: str | None = None) -> None:
        if not isinstance(exit_op, PipelineTask):
            raise TypeError(f"dsl.ExitHandler takes the exit task (a component call), got {exit_op!r}")
        self.exit_task = exit_op
        super().__init__(name, exit_task=exit_op.name)

    def _before_open(self, ctx: PipelineContext) -> None:
        super()._before_open(ctx)
        task = self.exit_task
        if ctx.tasks.get(task.name) is not task:
            raise ValueError(f"dsl.ExitHandler: task {task.name} belongs to another pipeline")
        if task.group != ctx.current_group:
            raise ValueError(
                f"dsl.ExitHandler: the exit task {task.name} must be created at the same level as the `with` block"
            )
        if task.arguments and any("task" in ref or "template" in ref for ref in task.arguments.values()):
            raise ValueError(f"dsl.ExitHandler: the exit task {task.name} cannot take other tasks' outputs")
        for group in ctx.groups.values():
            if group.exit_task == task.name:
                raise ValueError(
                    f"dsl.ExitHandler: task {task.name} is already the exit task of {group.name}"
                )


class ParallelFor(OpsGroup):
    """`with dsl.ParallelFor(items, parallelism=2) as item:` — the block runs once per item.

    `items` is a list written in the pipeline, a pipeline parameter or a task output holding a list.
    `item.key` picks a key when the items are dicts. `parallelism` caps the iterations running at once.
    """

    kind = "parallelFor"
    prefix = "for-loop"

    def __init__(self, loop_args: Any, parallelism: int | None = None, name: str | None = None) -> None:
        if parallelism is not None and (
            isinstance(parallelism, bool) or not isinstance(parallelism, int) or parallelism < 1
        ):
            raise ValueError(f"dsl.ParallelFor: parallelism must be a whole number >= 1, got {parallelism!r}")
        if isinstance(loop_args, (PipelineInputChannel, TaskOutputChannel, LoopItemChannel)):
            items: dict[str, Any] = loop_args.ref()
        elif isinstance(loop_args, (list, tuple)):
            if any(isinstance(v, Channel) for v in loop_args):
                raise TypeError("dsl.ParallelFor: a static list of items cannot contain task outputs")
            items = {"value": list(loop_args)}
        else:
            raise TypeError(
                f"dsl.ParallelFor takes a list, a pipeline parameter or a task output, got {loop_args!r}"
            )
        super().__init__(name, items=items, parallelism=parallelism)

    def _entered(self) -> LoopItemChannel:
        assert self.group is not None
        return LoopItemChannel(self.group.name)


def Collected(output: TaskOutputChannel) -> CollectedChannel:
    """KFP v2 `dsl.Collected(task.output)`: the list of that output over every loop iteration."""
    return CollectedChannel(output)


def OneOf(*outputs: TaskOutputChannel) -> OneOfChannel:
    """KFP v2 `dsl.OneOf(a.output, b.output)`: the output of the one dsl.If/Elif/Else branch that ran."""
    return OneOfChannel(tuple(outputs))
