"""Shape checking: pydantic's errors as plain problems, and a model built from the rest of the document.

`parse_model` validates a document against a model. Each pydantic error becomes a `Problem` in the
project's words (`spec.paralelTrialCount: unknown field; did you mean parallelTrialCount?`, never pydantic's
jargon). The offending values are then removed or neutralised (an empty mapping or text for a value of
the wrong type, a placeholder for a missing required field) and the document validated again, so that the
semantic rules can still run on everything else and a user sees every problem in one pass. Callers drop semantic problems under a path already
reported here (`tuner.spec.paths.covers`).
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from tuner.errors import Problem
from tuner.spec.paths import format_path
from tuner.spec.suggest import did_you_mean

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class ShownAs:
    """`Annotated[X, ShownAs(str)]`: problems with this value are worded, and repaired, as for a `str`
    (a field whose wider Python type is allowed only when a document is built in Python)."""

    annotation: Any


Part = str | int
_MAX_ROUNDS = 8


def parse_model(
    model: type[M], document: dict[str, Any], context: Mapping[str, Any] | None = None
) -> tuple[M | None, list[Problem], list[str]]:
    """Validate `document` as `model`: (the model or None, the shape problems, the paths they name).

    `context` is pydantic's validation context (e.g. `tuner.spec.parameters.PYTHON_VALUES`).

    The model is None only if the document could not be repaired into a valid one (not expected for the
    Katib models, whose fields are all optional but a parameter's name and type).
    """
    doc = _deep_copy(document)
    problems: list[Problem] = []
    reported: list[str] = []
    for _ in range(_MAX_ROUNDS):
        try:
            # Documents use Katib's camelCase names only: a snake_case key (`max_trial_count`) is an unknown
            # field, as Katib's API server would not read it; Python callers may still build models by name.
            return (
                model.model_validate(doc, by_alias=True, by_name=False, context=context),
                problems,
                reported,
            )
        except ValidationError as exc:
            repairs: list[tuple[list[Part], str, Any]] = []
            for error in exc.errors(include_url=False):
                parts, annotation, owner = _walk(model, error["loc"])
                path = format_path(parts)
                if path not in reported:
                    problems.append(Problem(path, _message(error, annotation, owner)))
                    reported.append(path)
                repairs.append((parts, error["type"], annotation))
            changed = [_repair(doc, parts, kind, annotation) for parts, kind, annotation in repairs]
            if not any(changed):
                break
    return None, problems, reported


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


# -- where an error is: from pydantic's location to the document path and the expected type ---------------


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated[...] and Optional[...] to the type that matters."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            args = get_args(annotation)
            shown = [m.annotation for m in args[1:] if isinstance(m, ShownAs)]
            annotation = shown[0] if shown else args[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _field(model: type[BaseModel], key: str) -> Any:
    for name, info in model.model_fields.items():
        if key in (info.alias, name):
            return info.annotation
    return None


def _walk(root: type[BaseModel], loc: Sequence[Part]) -> tuple[list[Part], Any, type[BaseModel] | None]:
    """The document path of `loc`, the annotation expected there, and the model that owns the last key.

    pydantic adds entries that are not document keys (union member tags such as `int` or
    `function-after[...]`); they are recognised by not fitting the schema and skipped.
    """
    parts: list[Part] = []
    current: Any = root
    owner: type[BaseModel] | None = None
    for item in loc:
        current = _unwrap(current)
        origin = get_origin(current)
        if isinstance(item, int) and origin in (list, tuple):
            parts.append(item)
            current = get_args(current)[0]
        elif isinstance(item, str) and _is_model(current):
            owner = current
            parts.append(item)
            current = _field(current, item)
        elif isinstance(item, str) and origin is dict:
            parts.append(item)
            current = get_args(current)[1]
        elif current is Any or current is None:
            parts.append(item)
    return parts, _unwrap(current), owner


# -- what it says -----------------------------------------------------------------------------------------

_TYPE_WORDS = {
    str: "text",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    list: "a list",
    dict: "a mapping (key: value pairs)",
}

_BOOL_HINT = " (YAML reads unquoted yes/no/true/false/on/off as booleans; quote the value)"


def show(value: Any) -> str:
    """A short, readable rendering of a bad value for a message."""
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return f"'{value}'" if len(value) <= 60 else f"'{value[:57]}...'"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _expected(annotation: Any) -> str:
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "one of " + ", ".join(_choices(annotation))
    if _is_model(annotation):
        return "a mapping of fields"
    origin = get_origin(annotation)
    return _TYPE_WORDS.get(origin or annotation, "a value")


def _choices(enum: type[Enum]) -> list[str]:
    return [str(m.value) for m in enum if m.value != "unknown"]


def _message(error: ErrorDetails, annotation: Any, owner: type[BaseModel] | None) -> str:
    kind, value = error["type"], error.get("input")
    if kind == "extra_forbidden":
        key = str(error["loc"][-1]) if error["loc"] else ""
        known = [info.alias or name for name, info in owner.model_fields.items()] if owner else []
        hint = _camel_case_hint(key, known) or did_you_mean(key, known)
        return f"unknown field{hint}" if hint else f"unknown field; known fields here: {', '.join(known)}"
    if kind == "missing":
        if isinstance(annotation, type) and issubclass(annotation, Enum):
            return f"required: one of {', '.join(_choices(annotation))}"
        return "required"
    if kind in ("enum", "literal_error") and isinstance(annotation, type) and issubclass(annotation, Enum):
        choices = _choices(annotation)
        hint = did_you_mean(str(value), choices) if isinstance(value, str) else ""
        return f"{show(value)} is not valid; expected one of {', '.join(choices)}{hint}"
    if kind == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"]))
    if kind.startswith("datetime") or kind.startswith("date_"):
        return f"expected a date-time such as 2024-05-01T12:00:00Z, got {show(value)}"
    hint = _BOOL_HINT if isinstance(value, bool) and annotation is str else ""
    return f"expected {_expected(annotation)}, got {show(value)}{hint}"


def _camel_case_hint(key: str, known: Sequence[str]) -> str:
    """`; did you mean maxTrialCount?` for `max_trial_count` (or `Max-Trial-Count`), when that field exists here."""
    words = [w for w in re.split(r"[_\-\s]+", key) if w]
    if len(words) < 2:
        return ""
    camel = words[0].lower() + "".join(w[:1].upper() + w[1:] for w in words[1:])
    match = next((k for k in known if k.lower() == camel.lower()), None)
    return f"; did you mean {match}?" if match else ""


# -- repairing the document for another round -------------------------------------------------------------


def _placeholder(annotation: Any) -> Any:
    """A neutral value for a missing required field or a bad list item (the problem is already reported)."""
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        values = [m.value for m in annotation]
        return "unknown" if "unknown" in values else values[0]
    return (
        _empty(annotation)
        if _empty(annotation) is not None
        else {int: 0, float: 0.0, bool: False}.get(annotation)
    )


def _empty(annotation: Any) -> Any:
    """An empty value of a container or text type, or None for other types.

    A value of the wrong type is replaced by this rather than removed, so that rules about its absence
    (`give trialSpec or configMap`) do not fire on top of the type problem; the empty value's own
    problems lie under the reported path and are dropped.
    """
    if _is_model(annotation) or get_origin(annotation) is dict:
        return {}
    return "" if annotation is str else None  # lists are removed: every rule treats a missing list as absent


def _repair(doc: Any, parts: list[Part], kind: str, annotation: Any) -> bool:
    """Remove or neutralise the value at `parts`; True if the document changed."""
    if not parts:
        return False
    parent = doc
    for part in parts[:-1]:
        try:
            parent = parent[part]
        except (KeyError, IndexError, TypeError):
            return False
    last = parts[-1]
    if kind == "missing":
        if isinstance(parent, dict) and last not in parent:
            parent[last] = _placeholder(annotation)
            return True
        return False
    if isinstance(parent, dict) and last in parent:
        empty = None if kind == "extra_forbidden" else _empty(annotation)
        if empty is None or parent[last] == empty:
            del parent[last]
        else:
            parent[last] = empty
        return True
    if isinstance(parent, list) and isinstance(last, int) and last < len(parent):
        replacement = _placeholder(annotation)
        if parent[last] == replacement:
            return False
        parent[last] = replacement
        return True
    return False
