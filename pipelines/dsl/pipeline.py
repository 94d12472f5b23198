"""`@dsl.pipeline`: marks a function as a pipeline and records its body on demand.

As in KFP v1 the body does not run at decoration time; `Pipeline.record()` runs it (the compiler and the
runner call it) inside a fresh `PipelineContext`, with a channel for each parameter. Names may contain
spaces and underscores ("Calculation pipeline", "hello_pipeline"); the IR keeps the written name as the
display name and a sanitised identifier as the name. Parameters may be un-annotated (KFP v1).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from pipelines.compiler.ir import InputSpec
from pipelines.dsl.channels import Channel, PipelineInputChannel
from pipelines.dsl.components import _hints
from pipelines.dsl.context import PipelineContext, recording, sanitize_name
from pipelines.dsl.types import is_optional, type_name


class Pipeline:
    """A pipeline function plus its name and description."""

    def __init__(
        self,
        func: Callable[..., Any],
        name: str | None = None,
        description: str | None = None,
        display_name: str | None = None,
        pipeline_root: str | None = None,
    ) -> None:
        if not callable(func):
            raise TypeError(f"@dsl.pipeline decorates a function, got {func!r}")
        self.pipeline_func = func
        self.display_name = display_name or name or func.__name__
        self.name = sanitize_name(name or func.__name__)
        self.description = description if description is not None else inspect.getdoc(func)
        self.pipeline_root = pipeline_root
        self.pipeline_conf: Any = None  # a PipelineConf given to compile() or to a run
        functools.update_wrapper(self, func)

    def __repr__(self) -> str:
        return f"<Pipeline {self.display_name!r} ({self.pipeline_func.__name__})>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Inside another pipeline (KFP v2 "a pipeline as a component"): record this pipeline's tasks there.

        Outside a pipeline it cannot be called: run or compile it instead.
        """
        from pipelines.dsl.context import current_context_or_none

        ctx = current_context_or_none()
        if ctx is None:
            raise TypeError(
                f"pipeline {self.display_name!r} is not called directly; run it with "
                "run_pipeline_func_locally(func, arguments) or Client().create_run_from_pipeline_func(func, arguments), "
                "or compile it with Compiler().compile(func, path)"
            )
        return self._record_inside(ctx, args, kwargs)

    def _record_inside(self, ctx: PipelineContext, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        from pipelines.dsl.nested import NestedPipelineTask

        specs = self.input_specs()
        names = list(specs)
        if len(args) > len(names):
            raise TypeError(f"pipeline {self.display_name!r} takes {len(names)} arguments, got {len(args)}")
        bound: dict[str, Any] = dict(zip(names, args, strict=False))
        for key, value in kwargs.items():
            if key not in specs:
                raise TypeError(
                    f"pipeline {self.display_name!r} has no parameter {key!r}; parameters: {', '.join(names) or 'none'}"
                )
            bound[key] = value
        for key, spec in specs.items():
            if key not in bound:
                if not spec.optional:
                    raise TypeError(f"pipeline {self.display_name!r} is missing argument {key!r}")
                bound[key] = spec.default
        before = set(ctx.tasks)
        returned = self.pipeline_func(**bound)
        tasks = [task for name, task in ctx.tasks.items() if name not in before]
        return NestedPipelineTask(self.name, tasks, returned)

    def input_specs(self) -> dict[str, InputSpec]:
        """The pipeline's parameters, typed by their annotations (untyped ones pass values as given)."""
        from pipelines.runner.executor import CoercionError, coerce

        hints = _hints(self.pipeline_func)
        specs: dict[str, InputSpec] = {}
        for param in inspect.signature(self.pipeline_func).parameters.values():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                raise TypeError(f"pipeline {self.display_name!r}: *args and **kwargs are not supported")
            annotation = hints.get(param.name, param.annotation)
            ptype = None if annotation is inspect.Parameter.empty else type_name(annotation)
            if param.default is inspect.Parameter.empty:
                optional = annotation is not inspect.Parameter.empty and is_optional(annotation)
                specs[param.name] = (
                    InputSpec(type=ptype, optional=True, default=None) if optional else InputSpec(type=ptype)
                )
                continue
            try:
                default = coerce(param.default, ptype)
            except CoercionError as exc:
                raise TypeError(
                    f"pipeline {self.display_name!r}: default of parameter {param.name!r}: {exc}"
                ) from None
            specs[param.name] = InputSpec(type=ptype, optional=True, default=default)
        return specs

    def record(self) -> tuple[PipelineContext, Any]:
        """Run the body once inside a new context; return the context and the body's return value."""
        ctx = PipelineContext(self.name)
        for key, spec in self.input_specs().items():
            ctx.inputs[key] = spec
        channels = {key: PipelineInputChannel(key, spec.type) for key, spec in ctx.inputs.items()}
        with recording(ctx):
            returned = self.pipeline_func(**channels)
            ctx.conf.merge(self.pipeline_conf)
            for transformer in ctx.conf.op_transformers:  # KFP v1 PipelineConf.add_op_transformer
                for task in list(ctx.tasks.values()):
                    transformer(task)
        if returned is not None and not isinstance(returned, (Channel, dict, tuple)):
            from pipelines.dsl.tasks import PipelineTask

            if not isinstance(returned, PipelineTask):
                raise TypeError(
                    f"pipeline {self.display_name!r} returned {returned!r}; return nothing, a task output, "
                    "or a dict of task outputs"
                )
        return ctx, returned


def pipeline(
    func: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    display_name: str | None = None,
    pipeline_root: str | None = None,
    **_ignored: Any,
) -> Any:
    """`@dsl.pipeline` or `@dsl.pipeline(name=..., description=...)`."""

    def wrap(f: Callable[..., Any]) -> Pipeline:
        return Pipeline(
            f, name=name, description=description, display_name=display_name, pipeline_root=pipeline_root
        )

    return wrap(func) if func is not None else wrap
