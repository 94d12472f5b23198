"""Rich HTML for Jupyter: a table of the best trial and a small history drawn as inline SVG.

Plain HTML and SVG, no plotly and no JavaScript: a notebook opened offline, rendered on a code-hosting site,
or exported with nbconvert shows it as it is (a plotly cell with `include_plotlyjs=False` shows nothing
unless plotly.js happens to be loaded already, and "cdn" would load it from the internet).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tuner.api import TuneResult
    from tuner.visualization.data import ExperimentData

WIDTH, HEIGHT, PAD = 320, 90, 4
MAX_SVG_POINTS = 500


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return "nan" if value != value else f"{value:.6g}"


def sparkline(values: Sequence[float], maximize: bool) -> str:
    """An inline SVG of the values by trial (grey dots) and the best so far (red steps); '' when empty."""
    finite = [(i, v) for i, v in enumerate(values) if math.isfinite(v)]
    if not finite:
        return ""
    dotted = finite
    if len(finite) > MAX_SVG_POINTS:  # the dots are sampled; the best-so-far line still sees every value
        stride = len(finite) / MAX_SVG_POINTS
        dotted = [finite[int(k * stride)] for k in range(MAX_SVG_POINTS)]
    low = min(v for _, v in finite)
    high = max(v for _, v in finite)
    span_y = (high - low) or 1.0
    span_x = max(len(values) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        x = PAD + (WIDTH - 2 * PAD) * i / span_x
        y = HEIGHT - PAD - (HEIGHT - 2 * PAD) * (v - low) / span_y
        return round(x, 1), round(y, 1)

    dots = "".join(f'<circle cx="{x}" cy="{y}" r="1.8"/>' for x, y in (xy(i, v) for i, v in dotted))
    best: float | None = None
    path: list[str] = []
    for i, v in finite:
        x, y = xy(i, v)
        if best is None:
            path.append(f"M{x},{y}")
        elif v > best if maximize else v < best:
            path.append(f"H{x}V{y}")
        else:
            continue
        best = v
    path.append(f"H{WIDTH - PAD}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="optimisation history">'
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="none" stroke="#ddd"/>'
        f'<g fill="#1f77b4" fill-opacity="0.6">{dots}</g>'
        f'<path d="{"".join(path)}" fill="none" stroke="#d62728" stroke-width="1.5"/></svg>'
    )


def _table(rows: Sequence[tuple[str, str]]) -> str:
    body = "".join(
        f'<tr><th style="text-align:left;padding-right:1em">{html.escape(k)}</th>'
        f'<td style="text-align:left">{html.escape(v)}</td></tr>'
        for k, v in rows
    )
    return f"<table>{body}</table>"


def _params(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in params.items())


def _card(title: str, rows: Sequence[tuple[str, str]], svg: str) -> str:
    figure = f'<div style="margin-top:0.5em">{svg}<div style="font-size:smaller;color:#666">'
    figure += "value by trial (dots) and best so far (line)</div></div>" if svg else ""
    return f"<div><strong>{html.escape(title)}</strong>{_table(rows)}{figure if svg else ''}</div>"


def _counts(states: Sequence[str]) -> str:
    counts: dict[str, int] = {}
    for state in states:
        counts[state] = counts.get(state, 0) + 1
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def result_html(result: TuneResult) -> str:
    """`TuneResult._repr_html_`: state, trial counts, the best trial, the history (from the result alone)."""
    goal = _goal_of(result)
    best = result.best_trial
    rows = [
        ("experiment", f"{result.namespace}/{result.experiment}"),
        ("state", result.state.value + (f" ({result.reason})" if result.reason else "")),
        ("trials", f"{len(result.trials)}: {_counts([t.state.value for t in result.trials])}"),
        ("best trial", best.name if best else "none yet"),
        ("best value", _number(best.value) if best else ""),
        ("best parameters", _params(best.parameters) if best else ""),
    ]
    values = [t.value if t.value is not None else math.nan for t in result.trials]
    return _card(f"tune() result: {result.experiment}", rows, sparkline(values, goal))


def _goal_of(result: TuneResult) -> bool:
    """Whether the experiment maximised, read from the trials: the best value is the largest."""
    best = result.best_value
    values = [t.value for t in result.trials if t.value is not None and math.isfinite(t.value)]
    return best is None or not values or best >= max(values)


def experiment_html(data: ExperimentData) -> str:
    """`ExperimentData._repr_html_`: state, counts, objective, the best trial and the history."""
    objective = data.objective
    scored = [(t, t.metrics[objective.name]) for t in data.trials if objective.name in t.metrics]
    scored = [(t, v) for t, v in scored if math.isfinite(v) and t.state in ("Succeeded", "EarlyStopped")]
    best = (max if objective.maximize else min)(scored, key=lambda r: r[1]) if scored else None
    rows = [
        ("experiment", f"{data.namespace}/{data.name}"),
        ("state", data.state),
        ("trials", f"{len(data.trials)}: {_counts([t.state for t in data.trials])}"),
        ("objective", f"{objective.goal} {objective.name} ({objective.strategy})"),
        ("best trial", best[0].name if best else "none yet"),
        ("best value", _number(best[1]) if best else ""),
        ("best parameters", _params(best[0].params) if best else ""),
    ]
    values = [t.metrics.get(objective.name, math.nan) for t in data.trials]
    return _card(f"experiment {data.name}", rows, sparkline(values, objective.maximize))
