""" "Did you mean ...?" for names a user mistyped: fields, enum values, parameter and setting names."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to `word` (case-insensitive), or the one it abbreviates, or None."""
    options = {c.lower(): c for c in candidates}
    match = difflib.get_close_matches(word.lower(), list(options), n=1, cutoff=0.6)
    if match:
        return options[match[0]]
    prefixed = [c for lower, c in options.items() if word and lower.startswith(word.lower())]
    return prefixed[0] if len(prefixed) == 1 else None  # "max" -> "maximize", but not when ambiguous


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`"; did you mean X?"`, or "" when nothing is close."""
    match = closest(word, candidates)
    return f"; did you mean {match}?" if match else ""
