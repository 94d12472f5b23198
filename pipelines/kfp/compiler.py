"""`kfp.compiler`: `Compiler().compile(pipeline_func, "pipeline.yaml" | ".zip" | ".tar.gz")`."""

from pipelines.compiler.compiler import Compiler

__all__ = ["Compiler"]
