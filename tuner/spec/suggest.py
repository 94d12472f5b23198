""" "Did you mean ...?" for names a user mistyped: fields, enum values, parameter, setting and algorithm names.

The one helper for every such hint in the project (the spec's rules, the algorithm registry, algorithm
settings), so a typo gets the same guess wherever it is made.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def _squash(text: str) -> str:
    """Letters and digits only, lower case: `Bayesian-Optimization` and `bayesianoptimization` agree."""
    return "".join(ch for ch in text.lower() if ch.isalnum())


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate `word` most likely meant, or None.

    In order: the same name but for case and punctuation; the one candidate it abbreviates ("max" ->
    "maximize", "bayes" -> "bayesianoptimization"; nothing when the prefix is ambiguous); a near spelling
    (difflib, case-insensitive).
    """
    options = list(dict.fromkeys(candidates))
    wanted = _squash(word)
    if not wanted:
        return None
    same = [c for c in options if _squash(c) == wanted]
    if same:
        return same[0]
    prefixed = [c for c in options if _squash(c).startswith(wanted)]
    if len(prefixed) == 1:
        return prefixed[0]
    lowered = {c.lower(): c for c in options}
    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


def did_you_mean(word: str, candidates: Iterable[str], quote: bool = False) -> str:
    """`"; did you mean X?"` (`'X'` with `quote`), or "" when nothing is close."""
    match = closest(word, candidates)
    if match is None:
        return ""
    return f"; did you mean {match!r}?" if quote else f"; did you mean {match}?"
