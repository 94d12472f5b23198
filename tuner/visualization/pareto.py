"""Pareto front of two metrics: every trial, and the ones no other trial beats on both."""

from __future__ import annotations

from typing import Any

from tuner.visualization.data import ExperimentData, MetricInfo, TrialData
from tuner.visualization.layout import BEST_COLOR, POINT_COLOR, figure, metric_label, numbers, texts, title
from tuner.visualization.options import DEFAULT_MAX_POINTS, FigureOptionError
from tuner.visualization.sampling import auto_log, even_indices, metric_of

Row = tuple[TrialData, float, float]


def pareto(
    data: ExperimentData,
    *,
    metrics: tuple[str, str] | None = None,
    trial_states: tuple[str, ...] | None = None,
    max_points: int = DEFAULT_MAX_POINTS,
    log_x: bool | None = None,
    log_y: bool | None = None,
) -> Any:
    """The front is drawn whole (it is never sampled away); the other trials are capped to an even sample."""
    import plotly.graph_objects as go

    if metrics is None:
        if len(data.metrics) < 2:
            raise FigureOptionError(
                f"a Pareto front needs two metrics; experiment {data.name!r} has only "
                f"{data.objective.name!r}: give it several objectives (spec.objective.objectives) or "
                "additionalMetricNames"
            )
        metrics = (data.metrics[0].name, data.metrics[1].name)
    mx = metric_of(data, metrics[0], "metrics")
    my = metric_of(data, metrics[1], "metrics")
    rows: list[Row] = []
    for trial in data.trials:
        if trial_states is not None and trial.state not in trial_states:
            continue
        x, y = trial.metrics.get(mx.name), trial.metrics.get(my.name)
        if x is not None and y is not None:
            rows.append((trial, x, y))
    front = front_of(rows, mx, my)
    on_front = {t.name for t, _, _ in front}
    others = [r for r in rows if r[0].name not in on_front]
    room = max(0, max_points - len(front))
    others = [others[i] for i in even_indices(len(others), room)]
    fig = figure(
        title=title(data, f"Pareto front of {mx.name} and {my.name}"),
        xaxis={
            "title": {"text": metric_label(mx)},
            "type": "log" if auto_log([x for _, x, _ in rows], log_x) else "linear",
        },
        yaxis={
            "title": {"text": metric_label(my)},
            "type": "log" if auto_log([y for _, _, y in rows], log_y) else "linear",
        },
        legend={"orientation": "h", "y": -0.2},
    )
    for name, part, color in (("trials", others, POINT_COLOR), ("Pareto front", front, BEST_COLOR)):
        fig.add_trace(
            go.Scatter(
                x=numbers([x for _, x, _ in part]),
                y=numbers([y for _, _, y in part]),
                mode="markers+lines" if name == "Pareto front" else "markers",
                line={"shape": "hv", "color": color} if name == "Pareto front" else None,
                marker={"color": color, "size": 7 if name == "Pareto front" else 5},
                text=texts([t.name for t, _, _ in part]),
                name=f"{name} ({len(part)})",
                hovertemplate="%{text}<br>" + mx.name + "=%{x}<br>" + my.name + "=%{y}<extra></extra>",
            )
        )
    return fig


def front_of(rows: list[Row], mx: MetricInfo, my: MetricInfo) -> list[Row]:
    """The non-dominated rows, sorted along x (one sort and one sweep: O(n log n))."""
    sx = -1.0 if mx.maximize else 1.0  # as minimisation
    sy = -1.0 if my.maximize else 1.0
    ordered = sorted(rows, key=lambda r: (sx * r[1], sy * r[2]))
    front: list[Row] = []
    best_y = float("inf")
    for row in ordered:
        y = sy * row[2]
        if y < best_y:
            front.append(row)
            best_y = y
    return front
