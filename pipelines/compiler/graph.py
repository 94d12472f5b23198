"""Questions about a compiled pipeline's graph, asked by the checker, the runner and the Argo target:
which tasks a value, a task or a group waits for, which tasks a group holds, in what order tasks can run.

Dependencies come from four places: data (arguments, templates, collected lists), `.after()`, the
operands of the conditions around a task and the items of the loops around it. An exit task depends on
every task of its exit-handler block.
"""

from __future__ import annotations

from collections.abc import Iterator
from graphlib import CycleError, TopologicalSorter

from pipelines.compiler.ir import (
    TOKEN_PATTERN,
    AllExpr,
    CollectedRef,
    CompareExpr,
    ConditionExpr,
    InputRef,
    LoopItemRef,
    NotExpr,
    OneOfRef,
    PipelineSpec,
    TaskOutputRef,
    TemplateRef,
    ValueRef,
    ref_from_token,
)


def leaf_refs(ref: ValueRef) -> Iterator[ValueRef]:
    """The references a value stands on: itself, or every token of a template."""
    if isinstance(ref, OneOfRef):  # dsl.OneOf stands on each of its branches
        for option in ref.one_of:
            yield from leaf_refs(option)
    elif isinstance(ref, TemplateRef):
        for match in TOKEN_PATTERN.finditer(ref.template):
            raw = ref_from_token(match)
            if "input" in raw:
                yield InputRef(input=raw["input"])
            elif "task" in raw:
                yield TaskOutputRef(task=raw["task"], output=raw["output"])
            else:
                yield LoopItemRef(loop_item=raw["loopItem"], field=raw.get("field"))
    else:
        yield ref


def expression_refs(expr: ConditionExpr) -> Iterator[ValueRef]:
    """Every reference a condition compares."""
    if isinstance(expr, CompareExpr):
        yield from leaf_refs(expr.left)
        yield from leaf_refs(expr.right)
    elif isinstance(expr, NotExpr):
        yield from expression_refs(expr.not_)
    elif isinstance(expr, AllExpr):
        for part in expr.all:
            yield from expression_refs(part)


def producer(ref: ValueRef) -> str | None:
    """The task a reference reads from, if any."""
    if isinstance(ref, TaskOutputRef):
        return ref.task
    if isinstance(ref, CollectedRef):
        return ref.collected.task
    return None


def tasks_in_group(spec: PipelineSpec, group: str) -> list[str]:
    """Every task inside `group`, nested groups included, in definition order."""
    return [name for name, task in spec.tasks.items() if group in spec.group_chain(task.group)]


def exit_groups(spec: PipelineSpec) -> dict[str, str]:
    """exit task name -> the exit-handler group it closes."""
    return {g.exit_task: name for name, g in spec.groups.items() if g.kind == "exitHandler" and g.exit_task}


def upstream(spec: PipelineSpec, task: str) -> dict[str, str]:
    """The tasks `task` waits for, each with why: "data", "after", "condition", "items" or "exit"."""
    found: dict[str, str] = {}
    t = spec.tasks[task]
    for ref in t.arguments.values():
        for leaf in leaf_refs(ref):
            name = producer(leaf)
            if name:
                found.setdefault(name, "data")
    for name in t.after:
        found.setdefault(name, "after")
    for group_name in spec.group_chain(t.group):
        group = spec.groups[group_name]
        if group.condition is not None:
            for leaf in expression_refs(group.condition):
                name = producer(leaf)
                if name:
                    found.setdefault(name, "condition")
        if group.items is not None:
            for leaf in leaf_refs(group.items):
                name = producer(leaf)
                if name:
                    found.setdefault(name, "items")
    exit_group = exit_groups(spec).get(task)
    if exit_group:
        for name in tasks_in_group(spec, exit_group):
            found.setdefault(name, "exit")
    found.pop(task, None)
    return found


def topological_order(spec: PipelineSpec) -> list[str]:
    """Tasks in an order where each comes after everything it waits for (definition order breaks ties).

    Raises:
        ValueError: the dependencies form a cycle; the message walks the cycle (`a -> b -> a`).
    """
    position = {name: i for i, name in enumerate(spec.tasks)}
    sorter: TopologicalSorter[str] = TopologicalSorter()
    for name in spec.tasks:
        sorter.add(name, *(d for d in upstream(spec, name) if d in position))  # unknown names: check.py
    try:
        sorter.prepare()
    except CycleError as exc:
        cycle: list[str] = exc.args[1]  # each task is waited for by the next one; the first closes it
        raise ValueError(
            f"tasks wait for each other in a cycle: {' -> '.join(cycle)} (each waits for the one before it)"
        ) from None
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=position.__getitem__)
        order += ready
        sorter.done(*ready)
    return order
