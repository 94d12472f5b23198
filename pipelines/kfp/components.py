"""`kfp.components`: building components from Python functions, and file-passing annotations."""

from pipelines.dsl.component_yaml import (
    load_component,
    load_component_from_file,
    load_component_from_text,
    load_component_from_url,
)
from pipelines.dsl.components import create_component_from_func, func_to_container_op
from pipelines.dsl.types import (
    InputBinaryFile,
    InputPath,
    InputTextFile,
    OutputBinaryFile,
    OutputPath,
    OutputTextFile,
)

__all__ = [
    "InputBinaryFile",
    "InputPath",
    "InputTextFile",
    "OutputBinaryFile",
    "OutputPath",
    "OutputTextFile",
    "create_component_from_func",
    "func_to_container_op",
    "load_component",
    "load_component_from_file",
    "load_component_from_text",
    "load_component_from_url",
]
