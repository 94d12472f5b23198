"""`Compiler().compile(pipeline_func, path)`: the public face of compilation, kept thin.

It checks what it was given, then delegates: `build.build_spec` records and checks the pipeline,
`package.write_package` writes the IR (`.yaml`, `.zip`, `.tar.gz`), `argo.to_workflow` renders an Argo
Workflow for `target="argo"`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pipelines.compiler.build import build_spec
from pipelines.compiler.ir import PipelineSpec
from pipelines.compiler.package import spec_to_yaml, to_yaml, write_package, write_text_package
from pipelines.dsl.pipeline import Pipeline

Target = Literal["ir", "argo"]


def as_spec(pipeline_func: Any, pipeline_conf: Any = None) -> PipelineSpec:
    """The checked IR of a `@dsl.pipeline` function (or an IR passed through); `pipeline_conf` is a KFP v1
    `PipelineConf` whose settings are added to the pipeline's own.

    Raises:
        TypeError: `pipeline_func` is neither a pipeline nor an IR.
    """
    if isinstance(pipeline_func, PipelineSpec):
        return pipeline_func
    if not isinstance(pipeline_func, Pipeline) and callable(pipeline_func):
        # KFP v1 compiled plain functions too; treat an undecorated function as a pipeline named after it.
        pipeline_func = Pipeline(pipeline_func)
    if isinstance(pipeline_func, Pipeline):
        if pipeline_conf is None:
            return build_spec(pipeline_func)
        previous, pipeline_func.pipeline_conf = pipeline_func.pipeline_conf, pipeline_conf
        try:
            return build_spec(pipeline_func)
        finally:
            pipeline_func.pipeline_conf = previous
    raise TypeError(f"expected a @dsl.pipeline function, got {pipeline_func!r}")


def render(spec: PipelineSpec, target: Target = "ir") -> str:
    """The compiled document as YAML text for a target."""
    if target == "ir":
        return spec_to_yaml(spec)
    if target == "argo":
        from pipelines.compiler.argo import to_workflow

        return to_yaml(to_workflow(spec))
    raise ValueError(f"unknown target {target!r}; use 'ir' or 'argo'")


class Compiler:
    """KFP's `kfp.compiler.Compiler`."""

    def compile(
        self,
        pipeline_func: Any,
        package_path: str | Path,
        type_check: bool = True,
        pipeline_conf: Any = None,
        target: Target = "ir",
        **_ignored: Any,
    ) -> Path:
        """Compile `pipeline_func` and write it to `package_path` (.yaml, .zip or .tar.gz).

        Raises:
            SpecError: the pipeline is invalid; nothing is written.
        """
        spec = as_spec(pipeline_func, pipeline_conf)
        if target == "ir":
            return write_package(spec, package_path)
        return write_text_package(render(spec, target), package_path)
