"""Intermediate values (learning curves): each trial's metric series over its steps."""

from __future__ import annotations

import math
from typing import Any

from tuner.visualization.data import ExperimentData, TrialData
from tuner.visualization.layout import STATE_COLORS, figure, metric_label, numbers, texts, title
from tuner.visualization.options import DEFAULT_MAX_POINTS
from tuner.visualization.sampling import auto_log, metric_of, sample_indices

MIN_POINTS_PER_CURVE = 20
"""Curves are chosen so that each may keep this many points within the cap (2000 points: 100 curves)."""
MAX_CURVES = 100
"""More lines than this are a grey mass: the best trials and an even sample of the rest are drawn."""


def intermediate(
    data: ExperimentData,
    *,
    metric: str | None = None,
    trial_states: tuple[str, ...] | None = None,
    max_points: int = DEFAULT_MAX_POINTS,
    log_y: bool | None = None,
) -> Any:
    """One line per trial, coloured by state. With many trials, the best ones and an even sample are drawn,
    so that the curves together hold at most `max_points` points.

    The curves of one state share one trace, separated by gaps (null points): a hundred traces cost plotly
    (and the browser) far more than one trace of the same points. Each point's hover names its trial.
    """
    import plotly.graph_objects as go

    info = metric_of(data, metric)
    candidates = [
        t
        for t in data.trials
        if t.points.get(info.name) and (trial_states is None or t.state in trial_states)
    ]
    curves = max(1, min(MAX_CURVES, max_points // MIN_POINTS_PER_CURVE))
    worst = -math.inf if info.maximize else math.inf
    keys = [t.metrics.get(info.name, worst) for t in candidates]
    chosen = [candidates[i] for i in sample_indices(keys, curves, info.maximize)]
    series = data.series(info.name, chosen)
    room = max(2, max_points // max(1, len(series)))
    fig = figure(
        title=title(data, "Intermediate values"),
        xaxis={"title": {"text": "step"}},
        legend={"title": {"text": "state"}},
    )
    by_state: dict[str, list[TrialData]] = {}
    for trial in chosen:
        if series.get(trial.name):
            by_state.setdefault(trial.state, []).append(trial)
    all_values: list[float] = []
    for state, trials in by_state.items():
        xs: list[float] = []
        ys: list[float] = []
        names: list[str] = []
        for trial in trials:
            points = series[trial.name]
            if len(points) > room:
                points = tuple(points[round(i * (len(points) - 1) / (room - 1))] for i in range(room))
            if xs:  # a gap ends the previous trial's line
                xs.append(math.nan)
                ys.append(math.nan)
                names.append("")
            xs += [s for s, _ in points]
            ys += [v for _, v in points]
            names += [trial.name] * len(points)
        all_values += [y for y in ys if not math.isnan(y)]
        fig.add_trace(
            go.Scatter(
                x=numbers(xs),
                y=numbers(ys),
                mode="lines+markers",
                connectgaps=False,
                name=f"{state} ({len(trials)} trials)",
                line={"color": STATE_COLORS.get(state, "#7f7f7f"), "width": 1},
                marker={"size": 3},
                opacity=0.7,
                text=texts(names),
                hovertemplate="%{text}<br>step %{x}<br>" + info.name + "=%{y}<extra></extra>",
            )
        )
    fig.update_layout(
        yaxis={
            "title": {"text": metric_label(info)},
            "type": "log" if auto_log(all_values, log_y) else "linear",
        }
    )
    return fig
