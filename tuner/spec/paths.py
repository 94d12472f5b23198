"""Field paths as problems name them: Katib's camelCase names with list indices, `spec.parameters[1].name`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_PLAIN_KEY = re.compile(r"[A-Za-z_$][\w$-]*")


def child(path: str, key: str | int) -> str:
    """`path` extended by a mapping key (`.key`, or `['a.b/c']` when the key has dots or slashes) or an index."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if not _PLAIN_KEY.fullmatch(key):
        return f"{path}['{key}']"
    return f"{path}.{key}" if path else key


def format_path(parts: Iterable[str | int]) -> str:
    """Join path parts: `("spec", "parameters", 1)` -> `spec.parameters[1]`."""
    path = ""
    for part in parts:
        path = child(path, part)
    return path


def covers(outer: str, inner: str) -> bool:
    """True if `inner` is `outer` or lies inside it (`spec.a` covers `spec.a.b` and `spec.a[0]`)."""
    return inner == outer or inner.startswith((outer + ".", outer + "[")) or outer == ""


def join(prefix: str, relative: str) -> str:
    """Append a relative path (as `child` builds them from "") to `prefix`."""
    if not relative:
        return prefix
    if not prefix or relative.startswith("["):
        return prefix + relative
    return f"{prefix}.{relative}"


_PART = re.compile(r"\['([^']*)'\]|\[(\d+)\]|\.?([^.\[]+)")


def split_path(path: str) -> list[str | int]:
    """The parts of a path built by `child`: `spec.parameters[1]['a.b']` -> `["spec", "parameters", 1, "a.b"]`."""
    parts: list[str | int] = []
    for quoted, index, plain in _PART.findall(path):
        parts.append(int(index) if index else quoted or plain)
    return parts


def document_order(document: Any, path: str) -> tuple[int, ...]:
    """A sort key placing `path` where it appears in `document` (missing keys sort after their siblings)."""
    key: list[int] = []
    node = document
    for part in split_path(path):
        if isinstance(node, dict) and part in node:
            key.append(list(node).index(part))
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            key.append(part)
            node = node[part]
        else:
            key.append(1_000_000 if key else -1)  # a missing top-level key (apiVersion, kind) goes first
            break
    return tuple(key)
