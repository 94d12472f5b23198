"""From a `@dsl.pipeline` function to a checked `PipelineSpec`.

Records the body once (`Pipeline.record`), turns the recorded tasks and groups into IR models, gives
each distinct component one entry (shared by every task that uses it, named after it, deduplicated by
digest) and runs the checker. The result is the same for the same source on every machine.
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from pipelines.compiler.check import check_spec
from pipelines.compiler.ir import (
    SCHEMA_VERSION,
    ComponentSpec,
    GroupSpec,
    PipelineInfo,
    PipelineSpec,
    Resources,
    TaskSpec,
    ValueRef,
)
from pipelines.dsl.channels import Channel, value_ref
from pipelines.dsl.context import PipelineContext, sanitize_name
from pipelines.dsl.pipeline import Pipeline
from pipelines.dsl.tasks import PipelineTask
from tuner.errors import Problem, SpecError

_REF = TypeAdapter(ValueRef)


def _components(ctx: PipelineContext) -> tuple[dict[str, ComponentSpec], dict[str, str]]:
    """One IR entry per distinct component; returns (components, task name -> component key)."""
    components: dict[str, ComponentSpec] = {}
    by_digest: dict[str, str] = {}
    task_component: dict[str, str] = {}
    for task_name, task in ctx.tasks.items():
        digest = task.component_spec.digest()
        key = by_digest.get(digest)
        if key is None:
            base = sanitize_name(task.component_spec.name)
            key, n = base, 1
            while key in components:
                n += 1
                key = f"{base}-{n}"
            components[key] = task.component_spec
            by_digest[digest] = key
        task_component[task_name] = key
    return components, task_component


def _task_spec(task: PipelineTask, component_key: str) -> TaskSpec:
    resources = task.resources if task.resources != Resources() else None
    return TaskSpec(
        component=component_key,
        display_name=task.display_name,
        group=task.group,
        arguments={key: _REF.validate_python(ref) for key, ref in task.arguments.items()},
        after=list(task.dependencies),
        resources=resources,
        retry=task.retry,
        timeout_seconds=task.timeout_seconds,
        caching=task.caching,
        env=dict(task.env),
        sidecars=list(task.sidecars),
        init_containers=list(task.init_containers),
    )


def _outputs(returned: Any) -> dict[str, ValueRef]:
    """Pipeline outputs from the body's return value: a channel, a task, a dict or a NamedTuple of them."""
    if returned is None:
        return {}
    if isinstance(returned, PipelineTask):
        returned = returned.output
    if isinstance(returned, Channel):
        return {"Output": _REF.validate_python(value_ref(returned))}
    items = returned._asdict().items() if hasattr(returned, "_asdict") else dict(returned).items()
    return {
        str(k): _REF.validate_python(value_ref(v.output if isinstance(v, PipelineTask) else v))
        for k, v in items
    }


def _record(pipeline: Pipeline) -> tuple[PipelineContext, Any]:
    """Run the body; a mistake in it becomes a SpecError naming the line of the pipeline's file."""
    try:
        return pipeline.record()
    except SpecError:
        raise
    except (TypeError, ValueError, SyntaxError, AttributeError, KeyError, RuntimeError) as exc:
        filename = pipeline.pipeline_func.__code__.co_filename
        lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
        where = f"{Path(filename).name}, line {lines[-1]}" if lines else ""
        message = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
        raise SpecError([Problem(where, message)], f"pipeline {pipeline.display_name!r}") from exc


def build_spec(pipeline: Pipeline) -> PipelineSpec:
    """Record `pipeline` and return its checked IR.

    Raises:
        SpecError: references that cannot work (unknown outputs, loop items used outside their loop,
            cycles...), each problem with its IR path.
    """
    ctx, returned = _record(pipeline)
    components, task_component = _components(ctx)
    spec = PipelineSpec(
        schema_version=SCHEMA_VERSION,
        pipeline=PipelineInfo(
            name=pipeline.name,
            display_name=pipeline.display_name if pipeline.display_name != pipeline.name else None,
            description=pipeline.description,
            function_name=pipeline.pipeline_func.__name__,
        ),
        inputs=dict(ctx.inputs),
        outputs=_outputs(returned),
        components=components,
        tasks={name: _task_spec(task, task_component[name]) for name, task in ctx.tasks.items()},
        groups={
            name: GroupSpec(
                kind=group.kind,  # type: ignore[arg-type]
                parent=group.parent,
                display_name=group.display_name,
                condition=group.condition.to_ir() if group.condition is not None else None,  # type: ignore[arg-type]
                exit_task=group.exit_task,
                items=_REF.validate_python(group.items) if group.items is not None else None,
                parallelism=group.parallelism,
                inputs={k: _REF.validate_python(v) for k, v in (group.inputs or {}).items()},
                recursive_ref=group.recursive_ref,
            )
            for name, group in ctx.groups.items()
        },
        settings=ctx.conf.settings(),
    )
    check_spec(spec)
    return spec
