"""Checks a compiled pipeline before anything runs or is written: every reference points at something that
exists and is visible from where it is used, arguments fit their inputs, nothing waits for itself.

Called by the compiler after recording a pipeline and by the loader after reading a package, so a file
edited by hand gets the same messages. All problems are reported at once, each with its path in the IR
(`tasks.add-op.arguments.b`) and what to do.
"""

from __future__ import annotations

from pipelines.compiler.graph import expression_refs, leaf_refs, topological_order
from pipelines.compiler.ir import (
    CollectedRef,
    ConstRef,
    InputRef,
    LoopItemRef,
    PipelineSpec,
    TaskOutputRef,
    ValueRef,
)
from pipelines.runner.executor import CoercionError, coerce
from tuner.errors import Problem, SpecError


class _Checker:
    def __init__(self, spec: PipelineSpec) -> None:
        self.spec = spec
        self.problems: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def loops_around(self, group: str | None) -> list[str]:
        return [g for g in self.spec.group_chain(group) if self.spec.groups[g].kind == "parallelFor"]

    def check_ref(self, ref: ValueRef, path: str, group: str | None) -> None:
        """A reference used by something placed in `group`."""
        for leaf in leaf_refs(ref):
            self._check_leaf(leaf, path, group)

    def _check_leaf(self, ref: ValueRef, path: str, group: str | None) -> None:
        spec = self.spec
        if isinstance(ref, InputRef):
            if ref.input not in spec.inputs:
                self.add(
                    path,
                    f"unknown pipeline parameter {ref.input!r}; parameters: {', '.join(spec.inputs) or 'none'}",
                )
        elif isinstance(ref, LoopItemRef):
            if ref.loop_item not in self.loops_around(group):
                self.add(
                    path, f"the item of loop {ref.loop_item!r} is used outside that dsl.ParallelFor block"
                )
        elif isinstance(ref, TaskOutputRef):
            inner = self.loops_around(spec.tasks[ref.task].group) if ref.task in spec.tasks else []
            if self._check_output(ref, path) and self.loops_around(group)[: len(inner)] != inner:
                self.add(
                    path,
                    f"task {ref.task} runs once per item of a dsl.ParallelFor; outside the loop, take all "
                    f"its values with dsl.Collected({ref.task}.output)",
                )
        elif isinstance(ref, CollectedRef) and self._check_output(ref.collected, path):
            inner = self.loops_around(spec.tasks[ref.collected.task].group)
            outer = self.loops_around(group)
            if len(inner) <= len(outer) or inner[: len(outer)] != outer:
                self.add(
                    path,
                    "dsl.Collected needs an output of a task inside a dsl.ParallelFor the consumer is not in; "
                    f"{ref.collected.task} is not",
                )

    def _check_output(self, ref: TaskOutputRef, path: str) -> bool:
        task = self.spec.tasks.get(ref.task)
        if task is None:
            self.add(path, f"unknown task {ref.task!r}")
            return False
        component = self.spec.components.get(task.component)
        if component is not None and ref.output not in component.outputs:
            known = ", ".join(component.outputs) or "none"
            self.add(path, f"task {ref.task} has no output {ref.output!r}; its outputs: {known}")
            return False
        return component is not None

    def check_groups(self) -> None:
        spec = self.spec
        for name, group in spec.groups.items():
            path = f"groups.{name}"
            if group.parent is not None and group.parent not in spec.groups:
                self.add(f"{path}.parent", f"unknown group {group.parent!r}")
                continue
            if group.kind == "condition" and group.condition is None:
                self.add(path, "a condition group needs a condition")
            if group.condition is not None:
                for leaf in expression_refs(group.condition):
                    self._check_leaf(leaf, f"{path}.condition", group.parent)
            if group.kind == "parallelFor":
                if group.items is None:
                    self.add(path, "a parallelFor group needs items")
                else:
                    self.check_ref(group.items, f"{path}.items", group.parent)
                    if isinstance(group.items, ConstRef) and not isinstance(group.items.value, list):
                        self.add(f"{path}.items", f"items must be a list, got {group.items.value!r}")
            if group.kind == "graph":
                for key, ref in group.inputs.items():
                    self.check_ref(ref, f"{path}.inputs.{key}", group.parent)
                if group.recursive_ref is not None:
                    self.check_recursion(name)
            if group.kind == "exitHandler":
                exit_task = spec.tasks.get(group.exit_task or "")
                if exit_task is None:
                    self.add(f"{path}.exitTask", f"unknown exit task {group.exit_task!r}")
                elif exit_task.group != group.parent:
                    self.add(
                        f"{path}.exitTask",
                        "the exit task must be defined at the same level as its exit handler",
                    )

    def check_recursion(self, name: str) -> None:
        """A graph component calling itself: inside its own body, with the same parameters, empty."""
        spec = self.spec
        group = spec.groups[name]
        path = f"groups.{name}.recursiveRef"
        target = spec.groups.get(group.recursive_ref or "")
        if target is None or target.kind != "graph" or target.recursive_ref is not None:
            self.add(path, f"unknown graph component body {group.recursive_ref!r}")
            return
        if group.recursive_ref not in spec.group_chain(group.parent):
            self.add(path, f"a graph component calls itself only inside its own body, {group.recursive_ref}")
        if set(group.inputs) != set(target.inputs):
            self.add(
                f"groups.{name}.inputs",
                f"the recursive call passes {', '.join(group.inputs) or 'nothing'}; the graph component takes "
                f"{', '.join(target.inputs) or 'nothing'}",
            )
        if any(t.group == name for t in spec.tasks.values()) or any(
            g.parent == name for g in spec.groups.values()
        ):
            self.add(f"groups.{name}", "a recursive call holds no tasks or groups of its own")

    def check_recursive_arguments(self) -> None:
        """The body of a recursive graph component reads its parameters as the values it was first called
        with (as in KFP, where they must be PipelineParams); each must be a distinct task output, pipeline
        parameter or loop item, so that a deeper call can stand in for it."""
        for target in sorted(self.spec.recursive_graphs()):
            group = self.spec.groups.get(target)
            if group is None:
                continue
            seen: dict[str, str] = {}
            for key, ref in group.inputs.items():
                path = f"groups.{target}.inputs.{key}"
                if not isinstance(ref, (InputRef, TaskOutputRef, LoopItemRef)):
                    shown = repr(ref.value) if isinstance(ref, ConstRef) else "a computed value"
                    self.add(
                        path,
                        f"graph component {group.display_name or target!r} calls itself, so its argument "
                        f"{key!r} must be a task output or a pipeline parameter (as KFP requires), got {shown}; "
                        "pass the value in as a pipeline parameter",
                    )
                    continue
                identity = ref.model_dump_json()
                if identity in seen:
                    self.add(
                        path,
                        f"graph component {group.display_name or target!r} calls itself, so its arguments must "
                        f"be distinct values; {key!r} and {seen[identity]!r} are the same",
                    )
                seen[identity] = key

    def check_tasks(self) -> None:
        spec = self.spec
        for name, task in spec.tasks.items():
            path = f"tasks.{name}"
            component = spec.components.get(task.component)
            if component is None:
                self.add(f"{path}.component", f"unknown component {task.component!r}")
                continue
            if task.group is not None and task.group not in spec.groups:
                self.add(f"{path}.group", f"unknown group {task.group!r}")
                continue
            for arg, ref in task.arguments.items():
                if arg not in component.inputs:
                    self.add(
                        f"{path}.arguments.{arg}",
                        f"component {component.name!r} has no input {arg!r}; inputs: {', '.join(component.inputs) or 'none'}",
                    )
                    continue
                self.check_ref(ref, f"{path}.arguments.{arg}", task.group)
                declared = component.inputs[arg].type
                if isinstance(ref, ConstRef) and component.inputs[arg].passing == "value":
                    try:
                        coerce(ref.value, declared)
                    except CoercionError as exc:
                        self.add(f"{path}.arguments.{arg}", str(exc))
            for key, spec_in in component.inputs.items():
                if key not in task.arguments and not spec_in.optional and spec_in.passing != "finalStatus":
                    self.add(
                        f"{path}.arguments",
                        f"required input {key!r} of component {component.name!r} has no argument",
                    )
            for other in task.after:
                if other not in spec.tasks:
                    self.add(f"{path}.after", f"unknown task {other!r}")

    def check_outputs(self) -> None:
        for name, ref in self.spec.outputs.items():
            self.check_ref(ref, f"outputs.{name}", None)

    def check_order(self) -> None:
        try:
            topological_order(self.spec)
        except ValueError as exc:
            self.add("tasks", f"{exc}; remove an .after() or a data dependency")


def check_spec(spec: PipelineSpec, source: str | None = None) -> None:
    """Raise `SpecError` listing every problem of the pipeline, or return quietly."""
    checker = _Checker(spec)
    checker.check_groups()
    checker.check_recursive_arguments()
    checker.check_tasks()
    checker.check_outputs()
    if not checker.problems:
        checker.check_order()
    if checker.problems:
        raise SpecError(
            checker.problems, source or f"pipeline {spec.pipeline.display_name or spec.pipeline.name}"
        )
