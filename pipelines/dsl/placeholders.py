"""Command-line templates of container components: the placeholders KFP's component YAML (v1 and v2) and
`@dsl.container_component` put in a command, and how they become this project's container steps.

A template is a list whose items are strings or placeholders: an input's value, an input's local path,
an output's path, a concatenation, or a branch on whether an input was given (`{if: {cond: {isPresent: x}}}`
in v1 YAML, `dsl.IfPresentPlaceholder` in v2). Branches are decided when the component is called in a
pipeline, as the KFP v1 compiler decided them: an input is present when the call passes it or it has a
default. What remains is a list of strings with `{{inputs.NAME}}` tokens (a value or, for a path input,
the local file the runner materialises) and output paths under `/tmp/outputs/NAME/data`, which the
runner rewrites to files private to the task (and the Argo target exports), as the KFP v1 compiler did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipelines.compiler.ir import (
    ComponentSpec,
    ContainerImplementation,
    InputSpec,
    OutputSpec,
    placeholder,
)
from pipelines.dsl.channels import Channel

OUTPUTS_ROOT = "/tmp/outputs"


def output_path(name: str) -> str:
    """Where a container step writes output `name` (rewritten to a private file locally)."""
    return f"{OUTPUTS_ROOT}/{name}/data"


@dataclass(frozen=True)
class InputValuePlaceholder:
    """The value of an input, as text."""

    name: str

    def __str__(self) -> str:
        return placeholder(f"inputs.{self.name}")

    def __format__(self, spec: str) -> str:
        return str(self)


@dataclass(frozen=True)
class InputPathPlaceholder:
    """The local path of an input's file."""

    name: str

    def __str__(self) -> str:
        return placeholder(f"inputs.{self.name}")

    def __format__(self, spec: str) -> str:
        return str(self)


@dataclass(frozen=True)
class OutputPathPlaceholder:
    """The path the step writes an output to."""

    name: str

    def __str__(self) -> str:
        return output_path(self.name)

    def __format__(self, spec: str) -> str:
        return str(self)


@dataclass(frozen=True)
class ConcatPlaceholder:
    """KFP `dsl.ConcatPlaceholder([...])` / v1 `{concat: [...]}`: the items joined into one argument."""

    items: list[Any]


@dataclass(frozen=True)
class IfPresentPlaceholder:
    """KFP `dsl.IfPresentPlaceholder(input_name=..., then=[...], else_=[...])` / v1 `{if: {cond: {isPresent}}}`.

    `condition` is an input name (present or not) or, for v1 `{if: {cond: {inputValue: x}}}`, a value
    placeholder whose constant argument is read as a boolean.
    """

    input_name: str
    then: list[Any] | Any = field(default_factory=list)
    else_: list[Any] | Any | None = None
    on_value: bool = False


@dataclass
class ContainerTemplate:
    """A container component before its branches are decided: interface, image, command and args."""

    name: str
    image: str
    command: list[Any]
    args: list[Any]
    inputs: dict[str, InputSpec]
    outputs: dict[str, OutputSpec]
    description: str | None = None
    env: dict[str, str] = field(default_factory=dict)

    def spec_for(self, arguments: dict[str, Any]) -> ComponentSpec:
        """The component spec for one call: branches decided by which arguments are given.

        Raises:
            TypeError: a branch depends on an input's value that is only known at run time.
        """
        present = {k for k, v in self.inputs.items() if k in arguments or v.default is not None}
        renderer = _Renderer(self, present, arguments)
        command = renderer.render_list(self.command)
        args = renderer.render_list(self.args)
        inputs = {
            key: spec.model_copy(update={"passing": "path"}) if key in renderer.path_inputs else spec
            for key, spec in self.inputs.items()
        }
        file_outputs = {name: output_path(name) for name in self.outputs}
        return ComponentSpec(
            name=self.name,
            description=self.description,
            inputs=inputs,
            outputs=self.outputs,
            container=ContainerImplementation(
                image=self.image, command=command, args=args, file_outputs=file_outputs
            ),
        )


class _Renderer:
    def __init__(self, template: ContainerTemplate, present: set[str], arguments: dict[str, Any]) -> None:
        self.template = template
        self.present = present
        self.arguments = arguments
        self.path_inputs: set[str] = set()

    def _known_input(self, name: str) -> str:
        if name not in self.template.inputs:
            raise TypeError(
                f"component {self.template.name!r}: the command names input {name!r}, which is not declared; "
                f"inputs: {', '.join(self.template.inputs) or 'none'}"
            )
        return name

    def render_list(self, items: list[Any]) -> list[str]:
        rendered: list[str] = []
        for item in items:
            rendered.extend(self.render_item(item))
        return rendered

    def render_item(self, item: Any) -> list[str]:
        """One template item as zero or more command-line strings."""
        if isinstance(item, IfPresentPlaceholder):
            chosen = item.then if self._holds(item) else item.else_
            if chosen is None:
                return []
            return self.render_list(chosen if isinstance(chosen, list) else [chosen])
        return [self.render_one(item)]

    def _holds(self, item: IfPresentPlaceholder) -> bool:
        name = self._known_input(item.input_name)
        if not item.on_value:
            return name in self.present
        value = self.arguments.get(name, self.template.inputs[name].default)
        if isinstance(value, Channel):
            raise TypeError(
                f"component {self.template.name!r}: an `if` on the value of input {name!r} needs a constant "
                "argument (true/false); branches are decided when the pipeline is compiled"
            )
        return str(value).strip().lower() == "true"

    def render_one(self, item: Any) -> str:
        """One template item that must give exactly one string."""
        if isinstance(item, str):
            return item
        if isinstance(item, (InputValuePlaceholder, InputPathPlaceholder)):
            name = self._known_input(item.name)
            if isinstance(item, InputPathPlaceholder):
                self.path_inputs.add(name)
            return str(item)
        if isinstance(item, OutputPathPlaceholder):
            if item.name not in self.template.outputs:
                raise TypeError(
                    f"component {self.template.name!r}: the command names output {item.name!r}, which is not "
                    f"declared; outputs: {', '.join(self.template.outputs) or 'none'}"
                )
            return str(item)
        if isinstance(item, ConcatPlaceholder):
            parts: list[str] = []
            for part in item.items:
                rendered = self.render_item(part)
                parts.extend(rendered)
            return "".join(parts)
        if isinstance(item, IfPresentPlaceholder):
            rendered = self.render_item(item)
            return "".join(rendered)
        if isinstance(item, (int, float, bool)):
            return str(item).lower() if isinstance(item, bool) else str(item)
        raise TypeError(f"component {self.template.name!r}: cannot use {item!r} in a command line")
