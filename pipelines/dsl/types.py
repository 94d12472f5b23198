"""Annotations a component function uses to say how an input or output travels: by value, by path, or
as an artifact object.

Who uses it: component authors (`InputPath("csv")`, `OutputPath("dill")` from KFP v1;
`Input[Dataset]`, `Output[Model]` from KFP v2) and `pipelines.dsl.signature`, which reads them to build a
component's interface. The artifact classes here are only markers for the DSL; inside a running task the
executor hands the function small stand-ins with the same attributes (`path`, `uri`, `metadata`,
`log_metric`), so the task process never imports this package.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


class Artifact:
    """A file or folder produced or consumed by a task (KFP's `dsl.Artifact`); the base of all kinds."""

    schema_title: ClassVar[str] = "system.Artifact"


class Dataset(Artifact):
    """Data (a table, a folder of images...)."""

    schema_title = "system.Dataset"


class Model(Artifact):
    """A trained model."""

    schema_title = "system.Model"


class Metrics(Artifact):
    """Scalar metrics; the task calls `log_metric(name, value)`."""

    schema_title = "system.Metrics"


class ClassificationMetrics(Artifact):
    """Confusion matrices and ROC curves (recorded as metadata)."""

    schema_title = "system.ClassificationMetrics"


class SlicedClassificationMetrics(Artifact):
    """Classification metrics per slice (recorded as metadata)."""

    schema_title = "system.SlicedClassificationMetrics"


class HTML(Artifact):
    """An HTML page."""

    schema_title = "system.HTML"


class Markdown(Artifact):
    """A Markdown document."""

    schema_title = "system.Markdown"


ARTIFACT_CLASSES: dict[str, type[Artifact]] = {
    cls.__name__: cls
    for cls in (
        Artifact,
        Dataset,
        Model,
        Metrics,
        ClassificationMetrics,
        SlicedClassificationMetrics,
        HTML,
        Markdown,
    )
}


@dataclass(frozen=True)
class InputPath:
    """The task receives a local path to read this input from (KFP v1 `InputPath('csv')`).

    The type is free text kept as documentation ("csv", "dill") or a Python type (`InputPath(str)`).
    """

    type: Any = None


@dataclass(frozen=True)
class OutputPath:
    """The task receives a local path to write this output to (KFP v1 `OutputPath('dill')`)."""

    type: Any = None


@dataclass(frozen=True)
class InputTextFile(InputPath):
    """KFP v1: the task receives the input as a file opened for reading text."""

    open_as = "r"


@dataclass(frozen=True)
class InputBinaryFile(InputPath):
    """KFP v1: the task receives the input as a file opened for reading bytes."""

    open_as = "rb"


@dataclass(frozen=True)
class OutputTextFile(OutputPath):
    """KFP v1: the task receives a file opened for writing the output as text."""

    open_as = "w"


@dataclass(frozen=True)
class OutputBinaryFile(OutputPath):
    """KFP v1: the task receives a file opened for writing the output as bytes."""

    open_as = "wb"


@dataclass(frozen=True)
class ArtifactAnnotation:
    """What `Input[Dataset]` / `Output[Model]` evaluate to: a direction and an artifact class."""

    direction: str  # "input" | "output"
    artifact: type[Artifact]


class Input:
    """`Input[Dataset]`: the task receives an artifact object with `.path`, `.uri` and `.metadata`."""

    def __class_getitem__(cls, artifact: type[Artifact]) -> ArtifactAnnotation:
        return ArtifactAnnotation("input", _artifact_class(artifact))


class Output:
    """`Output[Model]`: the task receives an artifact object whose `.path` it writes."""

    def __class_getitem__(cls, artifact: type[Artifact]) -> ArtifactAnnotation:
        return ArtifactAnnotation("output", _artifact_class(artifact))


def _artifact_class(artifact: Any) -> type[Artifact]:
    if isinstance(artifact, type) and issubclass(artifact, Artifact):
        return artifact
    raise TypeError(
        f"Input[...] and Output[...] take an artifact class (Artifact, Dataset, Model, Metrics, ...), got {artifact!r}"
    )


class PipelineTaskFinalStatus:
    """Annotate an exit task's parameter with this to receive the body's final status.

    Inside the task the parameter is a dict-like object with `state` ("SUCCEEDED" or "FAILED"),
    `error_message`, `pipeline_task_name` and `pipeline_job_resource_name`, as in KFP v2.
    """


def type_name(annotation: Any) -> str | None:
    """The IR name of a parameter type: str, int, float, bool, list or dict; None when it is not one.

    Accepts the builtins, `typing.List[...]`/`Dict[...]`, the strings KFP v1 allowed ("Integer", "Float",
    "String", "Bool", "JsonArray", "JsonObject") and `Optional[X]` (reported as X).
    """
    import typing

    if isinstance(annotation, str):
        return _NAMED_TYPES.get(annotation.lower())
    origin = typing.get_origin(annotation)
    if origin is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return type_name(args[0]) if len(args) == 1 else None
    if origin in (list, tuple):
        return "list"
    if origin is dict:
        return "dict"
    return _BUILTIN_TYPES.get(annotation)


def is_optional(annotation: Any) -> bool:
    """True for `Optional[X]` (a union with None)."""
    import typing

    return typing.get_origin(annotation) is typing.Union and type(None) in typing.get_args(annotation)


_BUILTIN_TYPES: dict[Any, str] = {
    str: "str",
    int: "int",
    float: "float",
    bool: "bool",
    list: "list",
    dict: "dict",
}
_NAMED_TYPES = {
    "str": "str",
    "string": "str",
    "text": "str",
    "int": "int",
    "integer": "int",
    "float": "float",
    "double": "float",
    "bool": "bool",
    "boolean": "bool",
    "list": "list",
    "jsonarray": "list",
    "dict": "dict",
    "jsonobject": "dict",
}
