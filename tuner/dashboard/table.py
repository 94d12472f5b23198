"""The experiment page's trial table, done on the server: filter, sort, page and CSV of loaded trials.

A filter is a comma-separated list of conditions `NAME OP VALUE` on a parameter or metric (`lr<0.01,
optimizer=adam, loss<=0.5`), OP one of `< <= > >= = !=`; trial states are a separate list. Errors name the
condition and the fix, so the page shows them next to the filter box.
"""

from __future__ import annotations

import csv
import io
import math
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tuner.visualization import ExperimentData, TrialData

_CONDITION = re.compile(r"^\s*([A-Za-z0-9_.\-/]+)\s*(<=|>=|!=|=|<|>)\s*(.+?)\s*$")
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "=": operator.eq,
    "!=": operator.ne,
}
MAX_PAGE_SIZE = 500


class TableQueryError(ValueError):
    """A bad filter or sort, with the query field it came from (`field`) for the page to show it there."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Condition:
    name: str
    kind: str  # "param" | "metric"
    op: str
    value: Any

    def holds(self, trial: TrialData) -> bool:
        actual = (trial.params if self.kind == "param" else trial.metrics).get(self.name)
        if actual is None or (isinstance(actual, float) and math.isnan(actual)):
            return False
        if isinstance(self.value, float) and not isinstance(actual, (int, float)):
            return False
        if isinstance(self.value, str):
            actual = str(actual)
        try:
            return bool(_OPS[self.op](actual, self.value))
        except TypeError:
            return False


def parse_filter(data: ExperimentData, text: str) -> list[Condition]:
    """The conditions of `text` (see the module doc) on the experiment's parameters and metrics."""
    params = {p.name for p in data.parameters}
    metrics = {m.name for m in data.metrics} | {data.objective.name}
    conditions = []
    for part in (p for p in text.split(",") if p.strip()):
        match = _CONDITION.match(part)
        if match is None:
            raise TableQueryError(
                "filter", f"cannot read condition {part.strip()!r}: write NAME OP VALUE, e.g. lr<0.01"
            )
        name, op, raw = match.groups()
        if name in metrics:
            kind = "metric"
        elif name in params:
            kind = "param"
        else:
            known = ", ".join(sorted(params | metrics))
            raise TableQueryError(
                "filter", f"{name!r} in {part.strip()!r} is no parameter or metric; use {known}"
            )
        value: Any = raw.strip("'\"")
        try:
            value = float(value)
        except ValueError:
            if op not in ("=", "!="):
                raise TableQueryError(
                    "filter", f"{part.strip()!r} compares with {raw!r}: {op} needs a number"
                ) from None
        conditions.append(Condition(name, kind, op, value))
    return conditions


def _sort_key(column: str, data: ExperimentData) -> Callable[[TrialData], Any]:
    if column in ("number", ""):
        return lambda t: (0, t.number)
    if column == "state":
        return lambda t: (0, t.state)
    kind, _, name = column.partition(":")
    if kind == "param" and name in {p.name for p in data.parameters}:

        def param(t: TrialData) -> Any:
            value = t.params.get(name)
            if value is None:
                return (2, 0)
            return (0, value) if isinstance(value, (int, float)) else (1, str(value))

        return param
    if kind == "metric" and name in ({m.name for m in data.metrics} | {data.objective.name}):

        def metric(t: TrialData) -> Any:
            value = t.metrics.get(name)
            return (1, 0.0) if value is None or math.isnan(value) else (0, value)

        return metric
    raise TableQueryError("sort", f"cannot sort by {column!r}: use number, state, param:NAME or metric:NAME")


def select(
    data: ExperimentData,
    states: Sequence[str] = (),
    filter_text: str = "",
    sort: str = "number",
    descending: bool = False,
) -> list[TrialData]:
    """The trials kept by the state list and the filter, sorted (missing values last either way)."""
    conditions = parse_filter(data, filter_text)
    wanted = {s.lower() for s in states if s}
    rows = [
        t
        for t in data.trials
        if (not wanted or t.state.lower() in wanted) and all(c.holds(t) for c in conditions)
    ]
    key = _sort_key(sort, data)
    present = [t for t in rows if key(t)[0] == 0]
    rest = [t for t in rows if key(t)[0] != 0]
    present.sort(key=key, reverse=descending)
    rest.sort(key=key)
    return present + rest


def columns(data: ExperimentData) -> tuple[list[str], list[str]]:
    """The table's parameter and metric columns, objective first."""
    metrics = [data.objective.name] + [m.name for m in data.metrics if m.name != data.objective.name]
    return [p.name for p in data.parameters], metrics


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def row_document(trial: TrialData, params: Iterable[str], metrics: Iterable[str]) -> dict[str, Any]:
    return {
        "number": trial.number,
        "name": trial.name,
        "state": trial.state,
        "params": {p: _plain(trial.params.get(p)) for p in params},
        "metrics": {m: _plain(trial.metrics.get(m)) for m in metrics},
        "start": trial.start.isoformat() if trial.start else None,
        "end": trial.end.isoformat() if trial.end else None,
    }


def best_trial(data: ExperimentData) -> TrialData | None:
    """The best trial by the objective among those that reported it (Succeeded ones first)."""
    name = data.objective.name
    scored = [t for t in data.trials if t.metrics.get(name) is not None and not math.isnan(t.metrics[name])]
    succeeded = [t for t in scored if t.state == "Succeeded"] or scored
    if not succeeded:
        return None
    pick = max if data.objective.maximize else min
    return pick(succeeded, key=lambda t: t.metrics[name])


def to_csv(data: ExperimentData, trials: Sequence[TrialData]) -> str:
    """The filtered table as CSV: number, name, state, each parameter, each metric, start, end."""
    params, metrics = columns(data)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["number", "name", "state", *params, *metrics, "start", "end"])
    for t in trials:
        writer.writerow(
            [
                t.number,
                t.name,
                t.state,
                *(_cell(t.params.get(p)) for p in params),
                *(_cell(t.metrics.get(m)) for m in metrics),
                t.start.isoformat() if t.start else "",
                t.end.isoformat() if t.end else "",
            ]
        )
    return out.getvalue()


def _cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return repr(value) if isinstance(value, float) else value
