"""Optimisation history: each trial's objective value by trial number, and the best value so far."""

from __future__ import annotations

from typing import Any

from tuner.visualization.data import ExperimentData
from tuner.visualization.layout import BEST_COLOR, POINT_COLOR, figure, metric_label, numbers, texts, title
from tuner.visualization.options import DEFAULT_MAX_POINTS
from tuner.visualization.sampling import auto_log, best_so_far, capped, even_indices, metric_of, trials_with


def history(
    data: ExperimentData,
    *,
    metric: str | None = None,
    trial_states: tuple[str, ...] | None = None,
    max_points: int = DEFAULT_MAX_POINTS,
    log_y: bool | None = None,
) -> Any:
    """Markers: trials (capped, best kept); line: best so far over every trial, drawn at its changes."""
    import plotly.graph_objects as go

    info = metric_of(data, metric)
    rows = trials_with(data, info, trial_states)
    values = [v for _, v in rows]
    best = best_so_far(values, info.maximize)
    # the best-so-far line only needs the trials where it moves, plus the last one
    change = [i for i in range(len(rows)) if i == 0 or best[i] != best[i - 1] or i == len(rows) - 1]
    change = [change[i] for i in even_indices(len(change), max_points // 5)]  # a step line stays monotone
    shown = capped(rows, max_points - len(change), info.maximize)  # markers and line share the cap
    fig = figure(
        title=title(data, "Optimisation history"),
        xaxis={"title": {"text": "trial number"}},
        yaxis={"title": {"text": metric_label(info)}, "type": "log" if auto_log(values, log_y) else "linear"},
        legend={"orientation": "h", "y": -0.2},
    )
    fig.add_trace(
        go.Scatter(
            x=numbers([t.number for t, _ in shown]),
            y=numbers([v for _, v in shown]),
            mode="markers",
            name=info.name,
            marker={"color": POINT_COLOR, "size": 6},
            text=texts([t.name for t, _ in shown]),
            hovertemplate="%{text}<br>" + info.name + "=%{y}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=numbers([rows[i][0].number for i in change]),
            y=numbers([best[i] for i in change]),
            mode="lines",
            line={"shape": "hv", "color": BEST_COLOR},
            name="best so far",
        )
    )
    return fig


def edf(
    data: ExperimentData,
    *,
    metric: str | None = None,
    trial_states: tuple[str, ...] | None = None,
    max_points: int = DEFAULT_MAX_POINTS,
    log_x: bool | None = None,
) -> Any:
    """Empirical distribution of the metric's values: the share of trials at or below each value.

    Capped by taking evenly spaced quantiles of the sorted values (always the lowest and the highest), which
    keeps the curve's shape exactly where an even sample of trials would blur its tails.
    """
    import plotly.graph_objects as go

    info = metric_of(data, metric)
    values = sorted(v for _, v in trials_with(data, info, trial_states))
    n = len(values)
    if n > max_points:
        index = [round(k * (n - 1) / (max_points - 1)) for k in range(max_points)]
    else:
        index = list(range(n))
    fig = figure(
        title=title(data, "Empirical distribution"),
        xaxis={"title": {"text": metric_label(info)}, "type": "log" if auto_log(values, log_x) else "linear"},
        yaxis={"title": {"text": "share of trials ≤ value"}, "range": [0, 1.02]},
    )
    fig.add_trace(
        go.Scatter(
            x=numbers([values[i] for i in index]),
            y=numbers([(i + 1) / n for i in index]),
            mode="lines",
            line={"shape": "hv", "color": POINT_COLOR},
            name=f"{data.name} ({n} trials)",
        )
    )
    return fig
