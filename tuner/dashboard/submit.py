"""Submitting an experiment from the dashboard's YAML box: the same checks as the API, and each problem
placed at the line of the field it names (tuner.spec's problems name fields by path, e.g.
`spec.parameters[1].feasibleSpace.min`), so the page can show the message under that line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from tuner.errors import Problem, SpecError
from tuner.spec.documents import parse_documents

_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


@dataclass(frozen=True)
class FieldError:
    field: str  # the problem's path ("" for the document as a whole)
    message: str
    line: int | None  # 1-based line of the field (or of its nearest parent present) in the text


def parse_experiment(text: str) -> dict[str, Any]:
    """The one experiment document of `text`.

    Raises:
        SpecError: the text is not YAML/JSON, holds no document or several, or not a mapping.
    """
    documents, problems = parse_documents(text)
    if problems:
        raise SpecError(problems, "<form>")
    if len(documents) != 1:
        found = f"{len(documents)} documents" if documents else "no document"
        raise SpecError([Problem("", f"expected one Experiment document, found {found}")], "<form>")
    if not isinstance(documents[0], dict):
        raise SpecError(
            [Problem("", "expected a mapping with apiVersion, kind, metadata and spec")], "<form>"
        )
    return documents[0]


def _line_of(root: yaml.Node | None, path: str) -> int | None:
    """The 1-based line of the field `path` in the composed YAML, or of the deepest parent found."""
    if root is None:
        return None
    node: yaml.Node = root
    line = node.start_mark.line + 1
    for key, index in _STEP.findall(path):
        if key and isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if getattr(key_node, "value", None) == key:
                    line = key_node.start_mark.line + 1
                    node = value_node
                    break
            else:
                return line
        elif index and isinstance(node, yaml.SequenceNode) and int(index) < len(node.value):
            node = node.value[int(index)]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def field_errors(text: str, error: SpecError) -> list[FieldError]:
    """Each problem of `error` with the line of its field in `text` (None when the text is not YAML)."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        root = None
    return [FieldError(p.path, p.message, _line_of(root, p.path) if p.path else None) for p in error.problems]


def _yaml_error_line(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None


def text_errors(error: SpecError) -> list[FieldError]:
    """Problems of a text that is not even YAML: placed at the line the parser names."""
    return [FieldError(p.path, p.message, _yaml_error_line(p.message)) for p in error.problems]
