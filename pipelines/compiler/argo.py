"""The Argo target: a compiled pipeline as an Argo `Workflow` (argoproj.io/v1alpha1) for Kubernetes.

Shape (as KFP v1 compiled it): one DAG template for the pipeline and one per group (a condition becomes a
DAG task with `when:`, a loop a DAG task with `withItems`/`withParam`, an exit handler a DAG task whose exit
task runs as the workflow's `onExit` or the task's exit hook), and one container template per task (`argo_steps`). Values
that cross a group's boundary are passed as the group template's input parameters (or artifacts) and
exported through its outputs; loop outputs gathered with `dsl.Collected` use Argo's aggregation of a
loop's output parameters into a JSON list. Python tasks run the same executor as the local runner, so a
task behaves alike in both places; `packages_to_install` is pip-installed in the container first.

A KFP v1 graph component's body is a DAG template named after its group (`graph-<function>-<n>`); when the
body calls itself, the call is a DAG task of that same template, named after it, whose arguments are the
new values under the names of the body's input parameters, and the condition around it a `when` (kfp
1.8's shape). So that a deeper call can replace them, a recursive body receives every value it was called
with as an input parameter, pipeline parameters included.

A file output passed to a value input is also exported as an output parameter (Argo limits their size).
Not supported (refused with a message): loop items or task outputs passed into an exit task, and
`dsl.Collected` over nested loops.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pipelines.compiler.argo_steps import StepTemplates, pack
from pipelines.compiler.graph import exit_groups, expression_refs, leaf_refs, producer, upstream
from pipelines.compiler.ir import (
    TOKEN_PATTERN,
    AllExpr,
    CollectedRef,
    CompareExpr,
    ConditionExpr,
    ConstRef,
    InputRef,
    LoopItemRef,
    NotExpr,
    OneOfRef,
    PipelineSpec,
    TaskOutputRef,
    TemplateRef,
    ValueRef,
    placeholder,
    ref_from_token,
)
from pipelines.runner.executor import render
from tuner.errors import Problem, SpecError


@dataclass(frozen=True)
class _Value:
    """Something that flows between templates: a task output, a collected list, or a loop item."""

    kind: str  # "task" | "collected" | "loop" | "input" (a pipeline parameter a recursive body was given)
    source: str  # producing task, or loop group ("" for a pipeline parameter)
    name: str  # output name, loop item field ("" for the whole item), or pipeline parameter
    artifact: bool = False

    @property
    def param(self) -> str:
        if self.kind == "input":
            return self.name
        if self.kind == "loop":
            return f"{self.source}-item" + (f"-{self.name}" if self.name else "")
        return f"{self.source}-{self.name}"


def _unsupported(path: str, message: str) -> SpecError:
    return SpecError([Problem(path, message + " (not supported by the Argo target)")], "argo")


class _Builder:
    def __init__(self, spec: PipelineSpec) -> None:
        self.spec = spec
        self.exits = exit_groups(spec)  # exit task -> its exit-handler group
        self.needs: dict[str | None, dict[str, _Value]] = {g: {} for g in spec.groups}
        self.exports: dict[str | None, dict[str, _Value]] = {g: {} for g in spec.groups}
        self.file_params: set[tuple[str, str]] = set()
        self.recursive = spec.recursive_graphs()
        self.recursions = [name for name in spec.groups if spec.is_recursion(name)]
        self.root_name = (
            spec.pipeline.name
            if spec.pipeline.name not in spec.tasks and spec.pipeline.name not in spec.groups
            else f"{spec.pipeline.name}-root"
        )

    # --- where things live ---------------------------------------------------------------------------

    def chain(self, group: str | None) -> list[str]:
        return self.spec.group_chain(group)

    def task_group(self, task: str) -> str | None:
        return self.spec.tasks[task].group

    def inside(self, group: str | None, container: str | None) -> bool:
        """`group` is `container` or nested in it (every group is inside the root, None)."""
        return container is None or container in self.chain(group)

    def lca(self, a: str | None, b: str | None) -> str | None:
        common: str | None = None
        for x, y in zip(self.chain(a), self.chain(b), strict=False):
            if x != y:
                break
            common = x
        return common

    def path_up(self, group: str | None, stop: str | None) -> list[str]:
        """Groups from `group` up to (not including) `stop`."""
        chain = self.chain(group)
        if stop is None:
            return chain[::-1]
        return chain[chain.index(stop) + 1 :][::-1]

    def element_in(self, group: str | None, task: str) -> str | None:
        """The element of `group`'s DAG that holds `task`: the task itself or a child group; None if outside."""
        tgroup = self.task_group(task)
        if tgroup == group:
            return task
        return self.child_holding(group, tgroup)

    def child_holding(self, group: str | None, inner: str | None) -> str | None:
        """The child group of `group` that is or holds group `inner`; None if `inner` is not below `group`."""
        chain = self.chain(inner)
        if group is None:
            return chain[0] if chain else None
        if group not in chain:
            return None
        position = chain.index(group)
        return chain[position + 1] if position + 1 < len(chain) else None

    # --- analysis: which values cross which group boundaries -----------------------------------------------

    def uses(self) -> Iterator[tuple[ValueRef, str | None, bool, str]]:
        """(reference, group where it is used, consumed as an artifact, IR path) for every use."""
        for name, task in self.spec.tasks.items():
            component = self.spec.components[task.component]
            for arg, ref in task.arguments.items():
                as_artifact = component.inputs[arg].passing in ("path", "artifact")
                for leaf in leaf_refs(ref):
                    yield (
                        leaf,
                        task.group,
                        as_artifact and not isinstance(ref, TemplateRef),
                        f"tasks.{name}.arguments.{arg}",
                    )
        for name, group in self.spec.groups.items():
            if group.condition is not None:
                for leaf in expression_refs(group.condition):
                    yield leaf, group.parent, False, f"groups.{name}.condition"
            if group.items is not None:
                for leaf in leaf_refs(group.items):
                    yield leaf, group.parent, False, f"groups.{name}.items"
            if group.recursive_ref is not None:
                for key, ref in group.inputs.items():
                    for leaf in leaf_refs(ref):
                        yield leaf, group.parent, False, f"groups.{name}.inputs.{key}"

    def recursive_body(self, ref: ValueRef, used_in: str | None) -> str | None:
        """The outermost recursive graph body around `used_in` that was called with pipeline parameter `ref`."""
        for group in self.chain(used_in):
            if group in self.recursive and ref in self.spec.groups[group].inputs.values():
                return group
        return None

    def value_of(self, ref: ValueRef, as_artifact: bool, path: str) -> _Value | None:
        if isinstance(ref, TaskOutputRef):
            output = self.spec.components[self.spec.tasks[ref.task].component].outputs[ref.output]
            if not as_artifact and output.passing != "value":
                self.file_params.add((ref.task, ref.output))  # read the file as a parameter too
            artifact = as_artifact and output.passing != "value"
            return _Value("task", ref.task, ref.output, artifact)
        if isinstance(ref, CollectedRef):
            return _Value("collected", ref.collected.task, ref.collected.output)
        if isinstance(ref, LoopItemRef):
            return _Value("loop", ref.loop_item, ref.field or "")
        return None

    def analyse(self) -> None:
        for ref, used_in, as_artifact, path in self.uses():
            body = self.recursive_body(ref, used_in) if isinstance(ref, InputRef) else None
            if body is not None:  # passed down to the body as an input, so that a deeper call can replace it
                assert isinstance(ref, InputRef)
                given = _Value("input", "", ref.input)
                for group in self.path_up(used_in, None):
                    self.needs[group]["p:" + given.param] = given
                    if group == body:
                        break
                continue
            found = self.value_of(ref, as_artifact, path)
            if found is None:
                continue
            value = found
            key = ("a:" if value.artifact else "p:") + value.param
            if value.kind == "loop":
                for group in self.path_up(used_in, None):
                    self.needs[group][key] = value
                    if group == value.source:
                        break
                continue
            producer_group = self.task_group(value.source)
            top = self.lca(used_in, producer_group)
            if value.kind == "collected":
                loops = [
                    g for g in self.path_up(producer_group, top) if self.spec.groups[g].kind == "parallelFor"
                ]
                if len(loops) != 1:
                    raise _unsupported(path, "dsl.Collected over nested loops")
            for group in self.path_up(producer_group, top):
                self.exports[group][key] = value
            for group in self.path_up(used_in, top):
                self.needs[group][key] = value
        for name in self.recursions:  # what the body needs besides its parameters reaches each call
            call = self.spec.groups[name]
            assert call.recursive_ref is not None
            for key, needed in self.needs[call.recursive_ref].items():
                if self.parameter_of(call.recursive_ref, needed) is None:
                    for holder in self.path_up(call.parent, call.recursive_ref):
                        self.needs[holder][key] = needed

    def parameter_of(self, body: str, value: _Value) -> str | None:
        """The parameter of graph body `body` whose first value `value` is, if any."""
        for param, ref in self.spec.groups[body].inputs.items():
            if isinstance(ref, InputRef):
                if value.kind == "input" and value.name == ref.input:
                    return param
                continue
            first = self.value_of(ref, value.artifact, f"groups.{body}.inputs.{param}")
            if first is not None and (first.kind, first.source, first.name) == (
                value.kind,
                value.source,
                value.name,
            ):
                return param
        return None

    # --- expressions ---------------------------------------------------------------------------------------

    def expr(self, value: _Value, group: str | None) -> str:
        """How `value` is written inside the DAG template of `group`."""
        space = "artifacts" if value.artifact else "parameters"
        if value.kind == "input":
            if group is not None and "p:" + value.param in self.needs[group]:
                return placeholder(f"inputs.parameters.{value.param}")
            return placeholder(f"workflow.parameters.{value.name}")
        if value.kind == "loop":
            return placeholder(f"inputs.parameters.{value.param}")
        producer_group = self.task_group(value.source)
        if value.kind == "task" and producer_group == group:
            return placeholder(f"tasks.{value.source}.outputs.{space}.{value.name}")
        if self.inside(producer_group, group):
            element = self.element_in(group, value.source)
            return placeholder(f"tasks.{element}.outputs.{space}.{value.param}")
        return placeholder(f"inputs.{space}.{value.param}")

    def ref_expr(self, ref: ValueRef, group: str | None, path: str) -> str:
        """A parameter expression (text) for a reference used in `group`."""
        if isinstance(ref, ConstRef):
            return render(ref.value)
        if isinstance(ref, InputRef):
            return self.expr(_Value("input", "", ref.input), group)
        if isinstance(ref, TemplateRef):

            def token(match: Any) -> str:
                raw = ref_from_token(match)
                leaf: ValueRef
                if "input" in raw:
                    leaf = InputRef(input=raw["input"])
                elif "task" in raw:
                    leaf = TaskOutputRef(task=raw["task"], output=raw["output"])
                else:
                    leaf = LoopItemRef(loop_item=raw["loopItem"], field=raw.get("field"))
                return self.ref_expr(leaf, group, path)

            return TOKEN_PATTERN.sub(token, ref.template)
        if isinstance(ref, OneOfRef):
            return self.one_of_expr(ref, group, path)
        value = self.value_of(ref, False, path)
        assert value is not None
        return self.expr(value, group)

    def one_of_expr(self, ref: OneOfRef, group: str | None, path: str) -> str:
        """dsl.OneOf as an Argo expression: the first branch whose DAG element succeeded (as Argo's own
        conditional-parameters example picks between the outputs of two conditional tasks)."""
        options: list[tuple[str, str]] = []
        for option in ref.one_of:
            text = self.ref_expr(option, group, path)
            match = re.fullmatch(r"\{\{tasks\.([a-z0-9-]+)\.outputs\.parameters\.([A-Za-z0-9_.-]+)\}\}", text)
            if match is None:
                raise _unsupported(path, "dsl.OneOf over values that are not outputs of this DAG's tasks")
            element, name = match.groups()
            options.append(
                (
                    f"tasks['{element}'].status == 'Succeeded'",
                    f"tasks['{element}'].outputs.parameters['{name}']",
                )
            )
        expression = options[-1][1]
        for condition, value in reversed(options[:-1]):
            expression = f"{condition} ? {value} : ({expression})"
        return "{{=" + expression + "}}"

    def condition(self, expr: ConditionExpr, group: str | None, path: str) -> str:
        if isinstance(expr, CompareExpr):
            left = self.ref_expr(expr.left, group, path)
            right = self.ref_expr(expr.right, group, path)
            numeric = any(
                isinstance(side, ConstRef)
                and isinstance(side.value, (int, float))
                and not isinstance(side.value, bool)
                for side in (expr.left, expr.right)
            ) or (
                expr.op not in ("==", "!=")
                and not any(isinstance(s, ConstRef) for s in (expr.left, expr.right))
            )
            if numeric:
                return f"{left} {expr.op} {right}"
            return f"{json.dumps(left)} {expr.op} {json.dumps(right)}"
        if isinstance(expr, NotExpr):
            return f"!({self.condition(expr.not_, group, path)})"
        assert isinstance(expr, AllExpr)
        return " && ".join(f"({self.condition(part, group, path)})" for part in expr.all)

    # --- templates -----------------------------------------------------------------------------------------

    def recursion_upstream(self, name: str) -> list[str]:
        """The tasks a graph body's call of itself waits for: those its values and conditions come from."""
        group = self.spec.groups[name]
        refs = [leaf for ref in group.inputs.values() for leaf in leaf_refs(ref)]
        for holder in self.chain(group.parent):
            condition = self.spec.groups[holder].condition
            if condition is not None:
                refs += list(expression_refs(condition))
        found: list[str] = []
        for ref in refs:
            source = producer(ref)
            if source is not None and source not in found:
                found.append(source)
        return found

    def dependencies(self, group: str | None, element: str) -> list[str]:
        """Elements of `group`'s DAG that `element` (a task or a child group) waits for."""
        members = (
            [element]
            if element in self.spec.tasks
            else [t for t in self.spec.tasks if element in self.chain(self.task_group(t))]
        )
        waits: list[tuple[str, str]] = [
            (other, reason) for task in members for other, reason in upstream(self.spec, task).items()
        ]
        for name in self.recursions:
            if element in self.chain(name):
                waits += [(other, "recursion") for other in self.recursion_upstream(name)]
        found: list[str] = []
        for other, reason in waits:
            if reason == "exit" or other in self.exits:
                continue
            holder = self.element_in(group, other)
            if holder is not None and holder != element and holder not in found and holder not in self.exits:
                found.append(holder)
        return found

    def group_arguments(self, group: str, parent: str | None) -> dict[str, Any]:
        parameters: list[dict[str, Any]] = []
        artifacts: list[dict[str, Any]] = []
        for value in self.needs[group].values():
            if value.kind == "loop" and value.source == group:
                expr = "{{item}}" if not value.name else placeholder(f"item.{value.name}")
            else:
                expr = self.expr(value, parent)
            if value.artifact:
                artifacts.append({"name": value.param, "from": expr})
            else:
                parameters.append({"name": value.param, "value": expr})
        arguments: dict[str, Any] = {}
        if parameters:
            arguments["parameters"] = parameters
        if artifacts:
            arguments["artifacts"] = artifacts
        return arguments

    def task_arguments(self, name: str, group: str | None) -> dict[str, Any]:
        task = self.spec.tasks[name]
        component = self.spec.components[task.component]
        parameters: list[dict[str, Any]] = []
        artifacts: list[dict[str, Any]] = []
        for arg, ref in task.arguments.items():
            spec_in = component.inputs[arg]
            path = f"tasks.{name}.arguments.{arg}"
            if spec_in.passing in ("path", "artifact") and not isinstance(ref, TemplateRef):
                value = self.value_of(ref, True, path)
                if value is not None and value.artifact:
                    artifacts.append({"name": arg, "from": self.expr(value, group)})
                else:
                    artifacts.append({"name": arg, "raw": {"data": self.ref_expr(ref, group, path)}})
            elif spec_in.passing == "value":
                parameters.append({"name": arg, "value": self.ref_expr(ref, group, path)})
        arguments: dict[str, Any] = {}
        if parameters:
            arguments["parameters"] = parameters
        if artifacts:
            arguments["artifacts"] = artifacts
        return arguments

    def recursion_arguments(self, name: str) -> dict[str, Any]:
        """What a graph body's call of itself passes to the body's template: each of the body's inputs, the
        call's own value for a parameter, the value the enclosing DAG received for anything else."""
        call = self.spec.groups[name]
        body = call.recursive_ref
        assert body is not None
        parameters: list[dict[str, Any]] = []
        artifacts: list[dict[str, Any]] = []
        for value in self.needs[body].values():
            param = self.parameter_of(body, value)
            path = f"groups.{name}.inputs.{param}"
            if param is None:
                expr = self.expr(value, call.parent)
            elif value.artifact:
                given = self.value_of(call.inputs[param], True, path)
                if given is None or not given.artifact:
                    raise _unsupported(path, "a recursive call passing a value where the body reads a file")
                expr = self.expr(given, call.parent)
            else:
                expr = self.ref_expr(call.inputs[param], call.parent, path)
            if value.artifact:
                artifacts.append({"name": value.param, "from": expr})
            else:
                parameters.append({"name": value.param, "value": expr})
        return pack(parameters, artifacts)

    def dag_task(self, group: str | None, element: str) -> dict[str, Any]:
        entry: dict[str, Any] = {"name": element, "template": element}
        recursion = self.spec.groups[element].recursive_ref if element in self.spec.groups else None
        if recursion is not None:  # the body calling itself: a task of the body's own template (kfp 1.8)
            entry = {"name": recursion, "template": recursion}
            arguments = self.recursion_arguments(element)
        elif element in self.spec.tasks:
            arguments = self.task_arguments(element, group)
        else:
            child = self.spec.groups[element]
            if child.kind == "parallelFor" and child.parallelism:
                arguments = self.wrapper_arguments(element, group)
            else:
                arguments = self.group_arguments(element, group)
            if child.kind == "condition" and child.condition is not None:
                entry["when"] = self.condition(child.condition, group, f"groups.{element}.condition")
            if child.kind == "parallelFor":
                if child.parallelism:
                    entry["template"] = f"{element}-loop"
                else:
                    entry.update(self.loop_items(element, group))
            if child.kind == "exitHandler" and group is not None and child.exit_task:
                entry["hooks"] = {"exit": {"template": child.exit_task}}
        if arguments:
            entry["arguments"] = arguments
        deps = self.dependencies(group, element)
        if deps:
            entry["dependencies"] = deps
        return entry

    def loop_items(self, loop: str, group: str | None) -> dict[str, Any]:
        items = self.spec.groups[loop].items
        if isinstance(items, ConstRef):
            return {"withItems": items.value}
        assert items is not None
        return {"withParam": self.ref_expr(items, group, f"groups.{loop}.items")}

    def dag_template(self, group: str | None) -> dict[str, Any]:
        elements: list[str] = []
        for name in self.spec.tasks:
            element = self.element_in(group, name)
            if element is not None and element not in elements and element not in self.exits:
                elements.append(element)
        for name in self.recursions:  # a body's call of itself holds no task, yet is a DAG task
            element = self.child_holding(group, name)
            if element is not None and element not in elements:
                elements.append(element)
        template: dict[str, Any] = {"name": self.root_name if group is None else group}
        if group is not None:
            inputs = self._io(self.needs[group].values())
            if inputs:
                template["inputs"] = inputs
            outputs = self._exports(group)
            if outputs:
                template["outputs"] = outputs
        if group is not None and self.spec.groups[group].kind == "subGraph":
            template["parallelism"] = self.spec.groups[group].parallelism  # KFP v1 dsl.SubGraph
        template["dag"] = {"tasks": [self.dag_task(group, e) for e in elements]}
        return template

    def _io(self, values: Any) -> dict[str, Any]:
        parameters = [{"name": v.param} for v in values if not v.artifact]
        artifacts = [{"name": v.param} for v in values if v.artifact]
        io: dict[str, Any] = {}
        if parameters:
            io["parameters"] = parameters
        if artifacts:
            io["artifacts"] = artifacts
        return io

    def _exports(self, group: str) -> dict[str, Any]:
        parameters: list[dict[str, Any]] = []
        artifacts: list[dict[str, Any]] = []
        for value in self.exports[group].values():
            producer_group = self.task_group(value.source)
            if producer_group == group:
                space = "artifacts" if value.artifact else "parameters"
                expr = placeholder(f"tasks.{value.source}.outputs.{space}.{value.name}")
            else:
                expr = self.expr(value, group)
            if value.artifact:
                artifacts.append({"name": value.param, "from": expr})
            else:
                parameters.append({"name": value.param, "valueFrom": {"parameter": expr}})
        outputs: dict[str, Any] = {}
        if parameters:
            outputs["parameters"] = parameters
        if artifacts:
            outputs["artifacts"] = artifacts
        return outputs

    def wrapper_arguments(self, loop: str, parent: str | None) -> dict[str, Any]:
        """What the DAG task calling a loop's wrapper passes: the body's outside values and the items' source."""
        values = [v for v in self.needs[loop].values() if not (v.kind == "loop" and v.source == loop)]
        values += self._item_needs(loop)
        parameters = [{"name": v.param, "value": self.expr(v, parent)} for v in values if not v.artifact]
        artifacts = [{"name": v.param, "from": self.expr(v, parent)} for v in values if v.artifact]
        return pack(parameters, artifacts)

    def loop_wrapper(self, loop: str) -> dict[str, Any]:
        """A DAG template that runs the loop body over the items with at most `parallelism` at once."""
        group = self.spec.groups[loop]
        inner: dict[str, Any] = {"name": loop, "template": loop}
        items = group.items
        if isinstance(items, ConstRef):
            inner["withItems"] = items.value
        elif isinstance(items, InputRef):
            inner["withParam"] = placeholder(f"workflow.parameters.{items.input}")
        else:
            assert items is not None
            source = self.value_of(items, False, f"groups.{loop}.items")
            assert source is not None
            inner["withParam"] = placeholder(f"inputs.parameters.{source.param}")
        parameters: list[dict[str, Any]] = []
        artifacts: list[dict[str, Any]] = []
        for value in self.needs[loop].values():
            if value.kind == "loop" and value.source == loop:
                parameters.append(
                    {
                        "name": value.param,
                        "value": "{{item}}" if not value.name else placeholder(f"item.{value.name}"),
                    }
                )
            elif value.artifact:
                artifacts.append(
                    {"name": value.param, "from": placeholder(f"inputs.artifacts.{value.param}")}
                )
            else:
                parameters.append(
                    {"name": value.param, "value": placeholder(f"inputs.parameters.{value.param}")}
                )
        arguments = pack(parameters, artifacts)
        if arguments:
            inner["arguments"] = arguments
        template: dict[str, Any] = {"name": f"{loop}-loop", "parallelism": group.parallelism}
        outer_needs = [v for v in self.needs[loop].values() if not (v.kind == "loop" and v.source == loop)]
        outer_needs += self._item_needs(loop)
        inputs = self._io(outer_needs)
        if inputs:
            template["inputs"] = inputs
        exports = [
            {
                "name": v.param,
                "valueFrom": {"parameter": placeholder(f"tasks.{loop}.outputs.parameters.{v.param}")},
            }
            for v in self.exports[loop].values()
        ]
        if exports:
            template["outputs"] = {"parameters": exports}
        template["dag"] = {"tasks": [inner]}
        return template

    def _item_needs(self, loop: str) -> list[_Value]:
        """Values the loop's items come from, which its wrapper must receive."""
        items = self.spec.groups[loop].items
        found: list[_Value] = []
        if items is not None:
            for leaf in leaf_refs(items):
                value = self.value_of(leaf, False, f"groups.{loop}.items")
                if value is not None:
                    found.append(value)
        return found

    def _exit_value(self, ref: ValueRef, task: str, arg: str) -> str:
        if isinstance(ref, (ConstRef, InputRef, TemplateRef)):
            text = self.ref_expr(ref, None, f"tasks.{task}.arguments.{arg}")
            if "{{tasks." in text or "{{inputs." in text:
                raise _unsupported(
                    f"tasks.{task}.arguments.{arg}", "an exit task taking another task's output"
                )
            return text
        raise _unsupported(
            f"tasks.{task}.arguments.{arg}", "an exit task taking a task output or a loop item"
        )

    # --- the workflow ------------------------------------------------------------------------------------

    def build(self) -> dict[str, Any]:
        self.analyse()
        spec = self.spec
        templates = [self.dag_template(None)]
        for name, group in spec.groups.items():
            if group.recursive_ref is not None:
                continue  # it runs the body's template again
            templates.append(self.dag_template(name))
            if group.kind == "parallelFor" and group.parallelism:
                templates.append(self.loop_wrapper(name))
        steps = StepTemplates(spec, self.exits, self.file_params, self._exit_value)
        templates += [steps.template(name) for name in spec.tasks]
        workflow_spec: dict[str, Any] = {"entrypoint": self.root_name}
        parameters = []
        for name, input_spec in spec.inputs.items():
            entry: dict[str, Any] = {"name": name}
            if input_spec.optional and input_spec.default is not None:
                entry["value"] = render(input_spec.default)
            parameters.append(entry)
        if parameters:
            workflow_spec["arguments"] = {"parameters": parameters}
        for group in spec.groups.values():
            if group.kind == "exitHandler" and group.parent is None and group.exit_task:
                workflow_spec["onExit"] = group.exit_task
        settings = spec.settings
        if settings is not None:  # KFP v1 PipelineConf
            if settings.parallelism:
                workflow_spec["parallelism"] = settings.parallelism
            if settings.timeout_seconds:
                workflow_spec["activeDeadlineSeconds"] = math.ceil(settings.timeout_seconds)
            if settings.ttl_seconds_after_finished is not None:
                workflow_spec["ttlStrategy"] = {"secondsAfterCompletion": settings.ttl_seconds_after_finished}
            if settings.image_pull_secrets:
                workflow_spec["imagePullSecrets"] = [{"name": n} for n in settings.image_pull_secrets]
            if settings.node_selector:
                workflow_spec["nodeSelector"] = dict(settings.node_selector)
            if settings.image_pull_policy:
                for template in templates:
                    if "container" in template:
                        template["container"]["imagePullPolicy"] = settings.image_pull_policy
        workflow_spec["templates"] = templates
        annotations = {"tuner.dev/pipeline-digest": spec.digest()}
        if spec.pipeline.display_name:
            annotations["tuner.dev/pipeline-display-name"] = spec.pipeline.display_name
        if spec.pipeline.description:
            annotations["tuner.dev/pipeline-description"] = spec.pipeline.description
        return {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Workflow",
            "metadata": {"generateName": f"{spec.pipeline.name}-", "annotations": annotations},
            "spec": workflow_spec,
        }


def to_workflow(spec: PipelineSpec) -> dict[str, Any]:
    """The pipeline as an Argo Workflow document.

    Raises:
        SpecError: the pipeline uses something the Argo target cannot express (see the module docstring).
    """
    return _Builder(spec).build()
