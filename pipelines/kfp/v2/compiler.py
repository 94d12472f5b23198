"""`kfp.v2.compiler`: `Compiler().compile(pipeline_func=..., package_path="pipeline.json" | ".yaml")`."""

from pipelines.compiler.compiler import Compiler

__all__ = ["Compiler"]
