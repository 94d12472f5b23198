"""Reading YAML or JSON text into plain documents, with line and column for anything malformed.

YAML is read as Kubernetes tools read it, with three differences from PyYAML's defaults that matter for
specs: timestamps stay text (kubectl's `creationTimestamp` round-trips unchanged), keys are always text
(`1:` is the key "1", as in the JSON kubectl sends), and a key given twice in one mapping is an error
(PyYAML would silently keep the last value; kubectl refuses the file too).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import yaml

from tuner.errors import Problem

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[valid-type,misc]
    """SafeLoader without timestamp resolution, with text keys only, recording duplicate keys."""

    yaml_implicit_resolvers: ClassVar[dict[Any, Any]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[Problem] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = key_text(self.construct_object(key_node, deep=True))
            if key in seen:
                mark = key_node.start_mark
                self.duplicates.append(
                    Problem(
                        "",
                        f"line {mark.line + 1}, column {mark.column + 1}: key '{key}' is given twice in the same mapping",
                    )
                )
            seen.add(key)
        self.flatten_mapping(node)  # merged keys (<<) come first, so the mapping's own keys win
        return {
            key_text(self.construct_object(key_node, deep=True)): self.construct_object(value_node, deep=deep)
            for key_node, value_node in node.value
        }


def key_text(key: Any) -> str:
    """A mapping key as Kubernetes sees it: YAML's `1:`, `true:` and `null:` keys become "1", "true", "null"."""
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return key if isinstance(key, str) else str(key)


def parse_documents(text: str) -> tuple[list[Any], list[Problem]]:
    """The documents in `text` (empty documents skipped) and the problems that prevent reading it."""
    if text.lstrip().startswith(("{", "[")):
        try:
            return [json.loads(text)], []
        except json.JSONDecodeError as exc:
            return [], [Problem("", f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")]
    loader = _Loader(text)
    documents: list[Any] = []
    try:
        while loader.check_data():
            document = loader.get_data()
            if document is not None:
                documents.append(document)
    except yaml.MarkedYAMLError as exc:
        return [], [Problem("", _yaml_message(exc))]
    except yaml.YAMLError as exc:  # errors without a position (rare: bad encoding)
        return [], [Problem("", f"invalid YAML: {exc}")]
    finally:
        loader.dispose()
    return documents, loader.duplicates


def _yaml_message(exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    what = exc.problem or exc.context or "malformed"
    context = ""
    if exc.context and exc.problem and exc.context_mark is not None:
        context = (
            f" ({exc.context} at line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1})"
        )
    return f"invalid YAML{where}: {what}{context}"
