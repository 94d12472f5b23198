"""Changing a submitted experiment's counts: the three fields Katib lets a user edit on a live experiment.

A PATCH body is a JSON merge patch of the Experiment (`{"spec": {"maxTrialCount": 20}}`, as
`kubectl patch --type=merge` sends); the flat form `{"maxTrialCount": 20}` is accepted too. Any other field
is refused naming it, as Katib's admission webhook refuses edits of the rest of the spec. `null` removes a
count (no limit; parallelTrialCount falls back to its default of 3).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from controllers.run import COUNT_FIELDS
from tuner.errors import Problem, SpecError

MINIMUM = {"parallelTrialCount": 1, "maxTrialCount": 1, "maxFailedTrialCount": 0}


def count_changes(body: Any) -> dict[str, int | None]:
    """The counts a PATCH body asks for.

    Raises:
        SpecError: the body is not a mapping, names a field other than the three counts, or a count is not a
            whole number at or above its minimum (every problem named by its field path).
    """
    if not isinstance(body, Mapping):
        raise SpecError([Problem("", 'expected a JSON object such as {"spec": {"maxTrialCount": 20}}')])
    problems: list[Problem] = []
    changes: dict[str, Any] = {}
    for key, value in body.items():
        if key == "spec" and isinstance(value, Mapping):
            for inner, count in value.items():
                changes[f"spec.{inner}"] = count
        elif key in COUNT_FIELDS:
            changes[f"spec.{key}"] = value
        else:
            changes[key] = value
    out: dict[str, int | None] = {}
    editable = ", ".join(f"spec.{f}" for f in COUNT_FIELDS)
    for path, value in changes.items():
        field = path.removeprefix("spec.")
        if not path.startswith("spec.") or field not in COUNT_FIELDS:
            problems.append(
                Problem(
                    path,
                    f"cannot be changed on a submitted experiment; only {editable} can (delete and resubmit "
                    "the experiment to change anything else)",
                )
            )
            continue
        if value is None:
            out[field] = None
        elif isinstance(value, bool) or not isinstance(value, int) or value < MINIMUM[field]:
            problems.append(
                Problem(
                    path, f"expected a whole number >= {MINIMUM[field]} (or null for none), got {value!r}"
                )
            )
        else:
            out[field] = value
    if not changes:
        problems.append(Problem("spec", f"nothing to change; give one of {editable}"))
    if problems:
        raise SpecError(problems, "<request>")
    return out


def with_counts(document: Mapping[str, Any], counts: Mapping[str, int | None]) -> dict[str, Any]:
    """A copy of the Experiment document with the counts applied (None removes one)."""
    changed = copy.deepcopy(dict(document))
    spec = changed.setdefault("spec", {})
    for field, value in counts.items():
        if value is None:
            spec.pop(field, None)
        else:
            spec[field] = value
    return changed
