"""The part of GJSON path syntax that Katib's success and failure conditions use, evaluated on a dict.

Katib judges any workload kind by a GJSON path on the object (`trialTemplate.successCondition` and
`failureCondition`); the path is "true" when its result is an object or a non-empty array (a literal
`true` counts as well). Supported, as in GJSON:

    a.b.c                 keys (a `\\.` in a key is a literal dot); a number indexes an array
    #                     an array's length, or with `.rest` after it, `rest` of every element
    #(q)   #(q)#          the first element matching q / all matching elements; after `#(q)#` a `.rest`
                          applies to every match, a `|rest` to the array of matches
    q:                    `path op value`, op one of == != < <= > >= % (like, * and ?) !% ; value a JSON
                          literal ("text", 1.5, true, false, null); no path compares the element itself
    [p1,p2] [@this]       an array of the given paths' values; @this is the current value
    x|y                   y applied to the result of x

Examples from Katib's documentation: `status.conditions.#(type=="Complete")#|#(status=="True")#` (Job),
`status.[@this].#(phase=="Succeeded")#` (Argo Workflow), `status.conditions.#(type=="Succeeded")#|#(status=="False")#` (Tekton).
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

_MISSING = object()
_OPS = ("==", "!=", "<=", ">=", "!%", "<", ">", "%")


class PathError(ValueError):
    """The path is not valid GJSON (of the supported subset)."""


def _split(path: str) -> list[tuple[str, str]]:
    """(separator, component) pairs; the first separator is '.'; splits at depth 0 outside quotes."""
    parts: list[tuple[str, str]] = []
    depth, quote, escape = 0, False, False
    current, sep = "", "."
    for char in path:
        if escape:
            current += char
            escape = False
            continue
        if char == "\\":
            current += char
            escape = True
            continue
        if char == '"':
            quote = not quote
        elif not quote and char in "([":
            depth += 1
        elif not quote and char in ")]":
            depth -= 1
        elif not quote and depth == 0 and char in ".|":
            if current:
                parts.append((sep, current))
            current, sep = "", char
            continue
        current += char
    if quote or depth != 0:
        raise PathError(f"unbalanced quotes or brackets in {path!r}")
    if current:
        parts.append((sep, current))
    return parts


def get(document: Any, path: str) -> Any:
    """The value at `path` (see the module docstring), or None when nothing is there."""
    found = _eval(document, _split(path))
    return None if found is _MISSING else found


def is_true(document: Any, path: str) -> bool:
    """Katib's reading of a condition: true when the result is an object, a non-empty array, or `true`."""
    found = get(document, path)
    return isinstance(found, dict) or (isinstance(found, list) and len(found) > 0) or found is True


def matched_detail(document: Any, path: str) -> tuple[str, str]:
    """(reason, message) of the matched condition object, when it has them (Katib copies them)."""
    found = get(document, path)
    item = found[0] if isinstance(found, list) and found else found
    if isinstance(item, dict):
        return str(item.get("reason") or ""), str(item.get("message") or "")
    return "", ""


def _eval(value: Any, parts: list[tuple[str, str]]) -> Any:
    index = 0
    while index < len(parts):
        if value is _MISSING:
            return _MISSING
        _, component = parts[index]
        index += 1
        maps = component == "#" and index < len(parts) and parts[index][0] == "."
        if maps or (component.startswith("#(") and component.endswith(")#")):
            items = (
                value
                if maps
                else _query(value, component[2:-2], every=True)
                if isinstance(value, list)
                else _MISSING
            )
            if not isinstance(items, list):
                return _MISSING
            # `.rest` up to the next `|` applies to every element
            end = index
            while end < len(parts) and parts[end][0] == ".":
                end += 1
            rest = parts[index:end]
            if rest:
                items = [r for r in (_eval(item, rest) for item in items) if r is not _MISSING]
            value, index = items, end
            continue
        value = _step(value, component)
    return value


def _step(value: Any, component: str) -> Any:
    if component == "@this":
        return value
    if component == "#":
        return len(value) if isinstance(value, list) else _MISSING
    if component.startswith("#(") and component.endswith(")"):
        return _query(value, component[2:-1], every=False) if isinstance(value, list) else _MISSING
    if component.startswith("[") and component.endswith("]"):
        out = []
        for sub in _split_commas(component[1:-1]):
            found = _eval(value, _split(sub))
            if found is not _MISSING:
                out.append(found)
        return out
    key = component.replace("\\.", ".").replace("\\", "")
    if isinstance(value, dict):
        return value.get(key, _MISSING)
    if isinstance(value, list) and key.isdecimal():
        position = int(key)
        return value[position] if position < len(value) else _MISSING
    return _MISSING


def _split_commas(text: str) -> list[str]:
    out, depth, quote, current = [], 0, False, ""
    for char in text:
        if char == '"':
            quote = not quote
        elif not quote and char in "([":
            depth += 1
        elif not quote and char in ")]":
            depth -= 1
        elif not quote and depth == 0 and char == ",":
            out.append(current.strip())
            current = ""
            continue
        current += char
    if current.strip():
        out.append(current.strip())
    return out


def _query(items: list[Any], query: str, every: bool) -> Any:
    left, op, right = _parse_query(query)
    matches = []
    for item in items:
        subject = item if not left else _eval(item, _split(left))
        if subject is _MISSING:
            continue
        if op is None or _compare(subject, op, right):
            if not every:
                return item
            matches.append(item)
    return matches if every else _MISSING


def _parse_query(query: str) -> tuple[str, str | None, Any]:
    quote = False
    for position, char in enumerate(query):
        if char == '"':
            quote = not quote
        if quote:
            continue
        for op in _OPS:
            if query.startswith(op, position):
                left, literal = query[:position].strip(), query[position + len(op) :].strip()
                try:
                    right = json.loads(literal)
                except ValueError:
                    raise PathError(
                        f"the value {literal!r} in the query {query!r} is not a JSON literal"
                    ) from None
                return left, op, right
    return query.strip(), None, None


def _compare(subject: Any, op: str, right: Any) -> bool:
    if op in ("%", "!%"):
        matched = isinstance(subject, str) and fnmatch.fnmatchcase(subject, str(right))
        return matched if op == "%" else not matched
    if op == "==":
        return bool(subject == right)
    if op == "!=":
        return bool(subject != right)
    both_numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (subject, right))
    both_text = isinstance(subject, str) and isinstance(right, str)
    if not (both_numbers or both_text):
        return False
    return {"<": subject < right, "<=": subject <= right, ">": subject > right, ">=": subject >= right}[op]
