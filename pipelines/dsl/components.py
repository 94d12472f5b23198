"""Components made from Python functions: KFP v1's `create_component_from_func`/`func_to_container_op`/
`dsl.python_component` and KFP v2's `@dsl.component`.

A component keeps the function's source (decorators removed) and an interface read from its signature:
annotated parameters are typed inputs, un-annotated ones are passed as given (KFP v1), `InputPath`/
`OutputPath` and `Input[...]`/`Output[...]` parameters are files and artifacts, and the return annotation
gives the outputs (none without one, as in KFP v1; a NamedTuple gives several). Calling a component inside
a pipeline function records a task. Nothing here runs the function: the runner's executor does, in its own
process, from the source.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import textwrap
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from pipelines.compiler.ir import ComponentSpec, InputSpec, OutputSpec, PythonImplementation, dump
from pipelines.dsl.placeholders import (
    ContainerTemplate,
    InputPathPlaceholder,
    InputValuePlaceholder,
    OutputPathPlaceholder,
)
from pipelines.dsl.tasks import PipelineTask
from pipelines.dsl.types import (
    ArtifactAnnotation,
    InputPath,
    OutputPath,
    PipelineTaskFinalStatus,
    is_optional,
    type_name,
)

DEFAULT_BASE_IMAGE = "python:3.11"


class Component:
    """A callable that records a task each time it is called inside a pipeline function."""

    def __init__(self, spec: ComponentSpec, python_func: Callable[..., Any] | None = None) -> None:
        self.component_spec = spec
        self.python_func = python_func
        self.__name__ = python_func.__name__ if python_func else spec.name
        self.__doc__ = spec.description

    @property
    def name(self) -> str:
        """The component's name."""
        return self.component_spec.name

    def __repr__(self) -> str:
        return f"<Component {self.component_spec.name}>"

    def __call__(self, *args: Any, **kwargs: Any) -> PipelineTask:
        return PipelineTask(self.component_spec, self._bind(args, kwargs))

    def _bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """Map positional and keyword arguments to input names, KFP v1 style (positional allowed)."""
        spec = self.component_spec
        callable_inputs = [k for k, v in spec.inputs.items() if v.passing != "finalStatus"]
        if len(args) > len(callable_inputs):
            raise TypeError(
                f"{spec.name}() takes {len(callable_inputs)} arguments ({', '.join(callable_inputs)}) "
                f"but {len(args)} were given"
            )
        bound: dict[str, Any] = dict(zip(callable_inputs, args, strict=False))
        for key, value in kwargs.items():
            found = spec.input_by_name(key)
            if found is None or found[1].passing == "finalStatus":
                raise TypeError(
                    f"{spec.name}() got an unexpected argument {key!r}; its inputs: {', '.join(callable_inputs) or 'none'}"
                )
            if found[0] in bound:
                raise TypeError(f"{spec.name}() got two values for argument {found[0]!r}")
            bound[found[0]] = value
        missing = [k for k in callable_inputs if k not in bound and not spec.inputs[k].optional]
        if missing:
            raise TypeError(f"{spec.name}() missing required argument(s): {', '.join(missing)}")
        return bound


def function_source(func: Callable[..., Any]) -> str:
    """The function's own source text, dedented, without decorators.

    Raises:
        TypeError: the source is not available (a function typed into a REPL or built with `exec`).
    """
    try:
        raw = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError) as exc:
        raise TypeError(
            f"cannot read the source of {getattr(func, '__name__', func)!r} ({exc}); components must be "
            "defined in a .py file (or a notebook cell), not built with exec or lambda"
        ) from None
    tree = ast.parse(raw)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == func.__name__:
            lines = raw.splitlines()
            return "\n".join(lines[node.lineno - 1 : node.end_lineno]) + "\n"
    if any(isinstance(node, ast.AsyncFunctionDef) for node in tree.body):
        raise TypeError(f"component {func.__name__!r}: async functions are not supported")
    raise TypeError(f"cannot find the definition of {func.__name__!r} in its source")


def _hints(func: Callable[..., Any]) -> dict[str, Any]:
    """Evaluated annotations; strings the module cannot evaluate are kept as written."""
    try:
        return typing.get_type_hints(func)
    except Exception:
        hints: dict[str, Any] = {}
        for key, value in getattr(func, "__annotations__", {}).items():
            if isinstance(value, str):
                with contextlib.suppress(Exception):
                    value = eval(value, func.__globals__)  # the user's own annotation text
            hints[key] = value
        return hints


def _io_name(param: str, strip_suffixes: bool) -> str:
    """KFP v1 names a file input/output without its `_path`/`_file` suffix (`model_path` -> `model`)."""
    if strip_suffixes:
        for suffix in ("_path", "_file"):
            if param.endswith(suffix) and len(param) > len(suffix):
                return param[: -len(suffix)]
    return param


def _path_type(annotation: InputPath | OutputPath) -> tuple[str | None, str | None]:
    """(parameter type, artifact type text) of an InputPath/OutputPath annotation."""
    kind = annotation.type
    if kind is None:
        return None, None
    if isinstance(kind, type):
        return type_name(kind), kind.__name__
    return type_name(kind), str(kind)


def _outputs_from_return(annotation: Any) -> dict[str, OutputSpec]:
    if annotation is inspect.Signature.empty or annotation is None or annotation is type(None):
        return {}
    fields = getattr(annotation, "_fields", None)
    if isinstance(annotation, type) and fields is not None:
        field_types = typing.get_type_hints(annotation) if hasattr(annotation, "__annotations__") else {}
        return {name: OutputSpec(type=type_name(field_types.get(name))) for name in fields}
    return {"Output": OutputSpec(type=type_name(annotation))}


def interface_from_function(
    func: Callable[..., Any], strip_suffixes: bool
) -> tuple[dict[str, InputSpec], dict[str, OutputSpec]]:
    """Inputs and outputs read from the function's signature."""
    hints = _hints(func)
    inputs: dict[str, InputSpec] = {}
    outputs: dict[str, OutputSpec] = {}
    for param in inspect.signature(func).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise TypeError(f"component {func.__name__!r}: *args and **kwargs are not supported")
        annotation = hints.get(param.name, param.annotation)
        has_default = param.default is not inspect.Parameter.empty
        default = param.default if has_default else None
        optional: dict[str, Any] = {"optional": True, "default": default} if has_default else {}
        io_name = _io_name(param.name, strip_suffixes)
        renamed: dict[str, Any] = {"param": param.name} if io_name != param.name else {}
        opened: dict[str, Any] = (
            {"open_as": annotation.open_as} if getattr(annotation, "open_as", None) else {}
        )  # InputTextFile, OutputBinaryFile...
        if isinstance(annotation, OutputPath):
            ptype, artifact = _path_type(annotation)
            outputs[io_name] = OutputSpec(type=ptype, passing="path", artifact=artifact, **renamed, **opened)
        elif isinstance(annotation, InputPath):
            ptype, artifact = _path_type(annotation)
            inputs[io_name] = InputSpec(
                type=ptype, passing="path", artifact=artifact, **optional, **renamed, **opened
            )
        elif isinstance(annotation, ArtifactAnnotation):
            name = annotation.artifact.__name__
            if annotation.direction == "output":
                outputs[param.name] = OutputSpec(passing="artifact", artifact=name)
            else:
                inputs[param.name] = InputSpec(passing="artifact", artifact=name, **optional)
        elif annotation is PipelineTaskFinalStatus:
            inputs[param.name] = InputSpec(passing="finalStatus", optional=True)
        else:
            known = annotation is not inspect.Parameter.empty
            ptype = type_name(annotation) if known else None
            if known and is_optional(annotation) and not has_default:
                optional = {"optional": True, "default": None}
            inputs[param.name] = InputSpec(type=ptype, **optional)
    for key, spec in _outputs_from_return(
        hints.get("return", inspect.signature(func).return_annotation)
    ).items():
        if key in outputs:
            raise TypeError(
                f"component {func.__name__!r}: output {key!r} is both returned and written to a path"
            )
        outputs[key] = spec
    return inputs, outputs


def _human_name(func: Callable[..., Any]) -> str:
    """KFP v1: `get_random_int_op` -> "Get random int op" (unless `dsl.python_component` named it)."""
    named = getattr(func, "_component_human_name", None)
    if named:
        return str(named)
    words = " ".join(func.__name__.replace("_", " ").split())
    return words[:1].upper() + words[1:]


def build_component(
    func: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    base_image: str | None = None,
    packages_to_install: list[str] | None = None,
    strip_suffixes: bool = True,
) -> Component:
    """A component from a function (the shared part of every factory in this module)."""
    if not inspect.isfunction(func):
        raise TypeError(f"a component is made from a plain function, got {func!r}")
    inputs, outputs = interface_from_function(func, strip_suffixes)
    doc = description or getattr(func, "_component_description", None) or inspect.getdoc(func)
    spec = ComponentSpec(
        name=name or _human_name(func),
        description=doc.strip() if doc else None,
        inputs=inputs,
        outputs=outputs,
        python=PythonImplementation(
            function_name=func.__name__,
            source=function_source(func),
            base_image=base_image or getattr(func, "_component_base_image", None) or None,
            packages_to_install=list(packages_to_install or []),
        ),
    )
    return Component(spec, func)


def _write_component_file(component: Component, path: str | None) -> None:
    if path:
        Path(path).write_text(yaml.safe_dump(dump(component.component_spec), sort_keys=False))


def create_component_from_func(
    func: Callable[..., Any],
    output_component_file: str | None = None,
    base_image: str | None = None,
    packages_to_install: list[str] | None = None,
    annotations: dict[str, str] | None = None,
) -> Component:
    """KFP v1: a component from a function; usable as a decorator or with `functools.partial`."""
    component = build_component(func, base_image=base_image, packages_to_install=packages_to_install)
    _write_component_file(component, output_component_file)
    return component


def func_to_container_op(
    func: Callable[..., Any],
    output_component_file: str | None = None,
    base_image: str | None = None,
    extra_code: str | None = None,
    packages_to_install: list[str] | None = None,
    modules_to_capture: list[str] | None = None,
    use_code_pickling: bool = False,
    annotations: dict[str, str] | None = None,
) -> Component:
    """KFP v1's older name for `create_component_from_func` (same behaviour)."""
    if extra_code or modules_to_capture or use_code_pickling:
        raise TypeError(
            "func_to_container_op: extra_code, modules_to_capture and use_code_pickling are not supported; "
            "put imports and helpers inside the function"
        )
    return create_component_from_func(
        func, output_component_file, base_image, packages_to_install, annotations
    )


def python_component(
    name: str | None = None,
    description: str | None = None,
    base_image: str | None = None,
    target_component_file: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """KFP v1 `@dsl.python_component(...)`: names a function for a later `func_to_container_op`.

    The function stays a plain function, as in KFP v1.
    """

    def mark(func: Callable[..., Any]) -> Callable[..., Any]:
        func._component_human_name = name  # type: ignore[attr-defined]
        func._component_description = description  # type: ignore[attr-defined]
        func._component_base_image = base_image  # type: ignore[attr-defined]
        return func

    return mark


def component(
    func: Callable[..., Any] | None = None,
    *,
    base_image: str | None = None,
    target_image: str | None = None,
    packages_to_install: list[str] | None = None,
    pip_index_urls: list[str] | None = None,
    install_kfp_package: bool = True,
    **_ignored: Any,
) -> Any:
    """KFP v2 `@dsl.component` / `@dsl.component(base_image=..., packages_to_install=...)`.

    Names are kept as written (KFP 2.x does not strip `_path`) and the component is named after the function.
    """

    def make(f: Callable[..., Any]) -> Component:
        return build_component(
            f,
            name=f.__name__.replace("_", "-"),
            base_image=base_image,
            packages_to_install=packages_to_install,
            strip_suffixes=False,
        )

    return make(func) if func is not None else make


class TemplateComponent(Component):
    """A container component whose command has placeholders: KFP component YAML or `@dsl.container_component`.

    Each call decides the command's `if`/`IfPresent` branches from the arguments it was given, so two calls
    may run different command lines (each becomes its own component entry in the IR).
    """

    def __init__(self, template: ContainerTemplate, python_func: Callable[..., Any] | None = None) -> None:
        self.template = template
        super().__init__(template.spec_for({}), python_func)

    def __call__(self, *args: Any, **kwargs: Any) -> PipelineTask:
        bound = self._bind(args, kwargs)
        task = PipelineTask(self.template.spec_for(bound), bound)
        for key, value in self.template.env.items():
            task.set_env_variable(key, value)
        return task


class ContainerSpec:
    """KFP v2 `dsl.ContainerSpec(image, command, args)`: what a `@dsl.container_component` function returns."""

    def __init__(self, image: str, command: list[Any] | None = None, args: list[Any] | None = None) -> None:
        if not isinstance(image, str) or not image:
            raise TypeError(f"dsl.ContainerSpec: image must be a non-empty string, got {image!r}")
        self.image = image
        self.command = list(command or [])
        self.args = list(args or [])


class _ArtifactPlaceholder:
    """What an `Input[...]`/`Output[...]` parameter is inside a container component: its `.path`."""

    def __init__(self, path: Any) -> None:
        self.path = path

    def __str__(self) -> str:
        return str(self.path)


def container_component(func: Callable[..., Any]) -> TemplateComponent:
    """KFP v2 `@dsl.container_component`: the function returns a `dsl.ContainerSpec` built from its
    parameters (values, `dsl.OutputPath(...)` paths, `Input[...]`/`Output[...]` artifacts' `.path`).

    The function runs once, now, with placeholders for its parameters; the command it returns runs on this
    machine (the image is recorded) or in the image on Argo.
    """
    if not inspect.isfunction(func):
        raise TypeError(f"@dsl.container_component decorates a function, got {func!r}")
    inputs, outputs = interface_from_function(func, strip_suffixes=False)
    placeholders: dict[str, Any] = {}
    for key, spec_in in inputs.items():
        if spec_in.passing == "value":
            placeholders[key] = InputValuePlaceholder(key)
        elif spec_in.passing == "path":
            placeholders[spec_in.param or key] = InputPathPlaceholder(key)
        elif spec_in.passing == "artifact":
            placeholders[key] = _ArtifactPlaceholder(InputPathPlaceholder(key))
        else:
            raise TypeError(
                f"container component {func.__name__!r}: dsl.PipelineTaskFinalStatus needs a Python component"
            )
    for key, spec_out in list(outputs.items()):
        if spec_out.passing == "value":
            raise TypeError(
                f"container component {func.__name__!r}: a container component returns dsl.ContainerSpec; declare "
                "outputs as dsl.OutputPath(...) or Output[...] parameters"
            )
        out = OutputPathPlaceholder(key)
        placeholders[spec_out.param or key] = (
            _ArtifactPlaceholder(out) if spec_out.passing == "artifact" else out
        )
    returned = func(**placeholders)
    if not isinstance(returned, ContainerSpec):
        raise TypeError(
            f"container component {func.__name__!r} must return dsl.ContainerSpec(image=..., command=[...], "
            f"args=[...]), got {returned!r}"
        )
    doc = inspect.getdoc(func)
    template = ContainerTemplate(
        name=func.__name__.replace("_", "-"),
        image=returned.image,
        command=[_unwrap(c) for c in returned.command],
        args=[_unwrap(a) for a in returned.args],
        inputs=inputs,
        outputs=outputs,
        description=doc.strip() if doc else None,
    )
    return TemplateComponent(template, func)


def _unwrap(item: Any) -> Any:
    return item.path if isinstance(item, _ArtifactPlaceholder) else item
