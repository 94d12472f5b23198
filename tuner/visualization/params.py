"""Figures of the objective against the parameters: parallel coordinates, slices, and a contour of a pair."""

from __future__ import annotations

import math
from typing import Any

from tuner.visualization.data import ExperimentData, ParameterInfo, TrialData
from tuner.visualization.layout import figure, metric_label, numbers, parameter_axis, texts, title
from tuner.visualization.options import DEFAULT_MAX_POINTS, FigureOptionError
from tuner.visualization.sampling import auto_log, capped, metric_of, params_of, trials_with

COLORSCALE = "Viridis"
CONTOUR_GRID = 30
"""Cells per side of the interpolated contour: enough to read, small enough to send."""
IDW_POINTS = 500
"""Trials the contour surface is interpolated from (an even sample beyond): 30 x 30 x 500 weights."""


def _numeric(parameter: ParameterInfo, value: Any) -> float | None:
    """A parameter value on its axis: the index of a category, else the number (None when missing)."""
    if value is None:
        return None
    if parameter.categorical:
        texts = [str(c) for c in parameter.choices]
        return float(texts.index(str(value))) if str(value) in texts else None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def parallel(
    data: ExperimentData,
    *,
    metric: str | None = None,
    trial_states: tuple[str, ...] | None = None,
    max_points: int = DEFAULT_MAX_POINTS,
    params: tuple[str, ...] | None = None,
) -> Any:
    """One line per trial through the metric's axis and each parameter's (log10 for log-scale parameters)."""
    import plotly.graph_objects as go

    info = metric_of(data, metric)
    names = params_of(data, params)
    rows = capped(trials_with(data, info, trial_states), max_points, info.maximize)
    values = [v for _, v in rows]
    dimensions: list[dict[str, Any]] = [{"label": info.name, "values": numbers(values)}]
    for name in names:
        parameter = data.parameter(name)
        column = [_numeric(parameter, t.params.get(name)) for t, _ in rows]
        dimensions.append(_dimension(parameter, column))
    fig = figure(title=title(data, "Parallel coordinates"), margin={"l": 70, "r": 150, "t": 80, "b": 30})
    fig.add_trace(
        go.Parcoords(
            dimensions=dimensions,
            line={
                "color": numbers(values),
                "colorscale": COLORSCALE,
                "reversescale": not info.maximize,
                "showscale": True,
                "colorbar": {"title": {"text": metric_label(info)}},
            },
        )
    )
    return fig


def _dimension(parameter: ParameterInfo, column: list[float | None]) -> dict[str, Any]:
    nan = float("nan")
    if parameter.categorical:
        return {
            "label": parameter.name,
            "values": numbers([nan if v is None else v for v in column]),
            "tickvals": list(range(len(parameter.choices))),
            "ticktext": [str(c) for c in parameter.choices],
            "range": [0, max(len(parameter.choices) - 1, 1)],
        }
    if parameter.log and (parameter.low or 0) > 0:
        logs = [nan if v is None or v <= 0 else math.log10(v) for v in column]
        low, high = math.log10(parameter.low or 1), math.log10(parameter.high or 1)
        ticks = list(range(math.floor(low), math.ceil(high) + 1))
        return {
            "label": f"{parameter.name} (log)",
            "values": numbers(logs),
            "range": [low, high],
            "tickvals": ticks,
            "ticktext": [f"1e{t}" for t in ticks],
        }
    dimension: dict[str, Any] = {
        "label": parameter.name,
        "values": numbers([nan if v is None else v for v in column]),
    }
    if parameter.low is not None and parameter.high is not None and parameter.high > parameter.low:
        dimension["range"] = [parameter.low, parameter.high]
    return dimension


def slices(
    data: ExperimentData,
    *,
    metric: str | None = None,
    trial_states: tuple[str, ...] | None = None,
    max_points: int = DEFAULT_MAX_POINTS,
    params: tuple[str, ...] | None = None,
    log_x: bool | None = None,
    log_y: bool | None = None,
) -> Any:
    """One panel per parameter: the metric against the parameter's value, coloured by trial number."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    info = metric_of(data, metric)
    names = params_of(data, params)
    # every panel draws the same trials: the cap is shared between the panels
    per_panel = max(1, max_points // max(1, len(names)))
    rows = capped(trials_with(data, info, trial_states), per_panel, info.maximize)
    values = numbers([v for _, v in rows])
    fig = make_subplots(rows=1, cols=len(names) or 1, shared_yaxes=True, horizontal_spacing=0.03)
    fig.update_layout(
        title=title(data, "Slices"),
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
        showlegend=False,
        hovermode="closest",
    )
    order = numbers([t.number for t, _ in rows])
    names_text = texts([t.name for t, _ in rows])
    for column, name in enumerate(names, start=1):
        parameter = data.parameter(name)
        column_values = [t.params.get(name) for t, _ in rows]
        xs = texts(column_values) if parameter.categorical else numbers(column_values)
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=values,
                mode="markers",
                name=name,
                marker={
                    "color": order,
                    "colorscale": "Blues",
                    "size": 6,
                    "showscale": column == len(names),
                    "colorbar": {"title": {"text": "trial"}},
                },
                text=names_text,
                hovertemplate="%{text}<br>" + name + "=%{x}<br>" + info.name + "=%{y}<extra></extra>",
            ),
            row=1,
            col=column,
        )
        fig.update_xaxes(**parameter_axis(parameter, log_x), row=1, col=column)
    fig.update_yaxes(
        title={"text": metric_label(info)},
        type="log" if auto_log(values.tolist(), log_y) else "linear",
        row=1,
        col=1,
    )
    return fig


def contour(
    data: ExperimentData,
    *,
    metric: str | None = None,
    trial_states: tuple[str, ...] | None = None,
    max_points: int = DEFAULT_MAX_POINTS,
    params: tuple[str, str] | None = None,
    log_x: bool | None = None,
    log_y: bool | None = None,
) -> Any:
    """The metric over a pair of parameters: a surface interpolated from the trials (inverse-distance
    weighting, in each axis' own scale) and the trials themselves as points."""
    import plotly.graph_objects as go

    info = metric_of(data, metric)
    known = [p.name for p in data.parameters]
    if params is None:
        if len(known) < 2:
            raise FigureOptionError(
                f"a contour needs two parameters; experiment {data.name!r} has {len(known)}: "
                "draw a slice figure instead"
            )
        params = (known[0], known[1])
    x_name, y_name = params_of(data, params)
    px, py = data.parameter(x_name), data.parameter(y_name)
    rows = trials_with(data, info, trial_states)
    points = [(_numeric(px, t.params.get(x_name)), _numeric(py, t.params.get(y_name)), v, t) for t, v in rows]
    complete = [(x, y, v, t) for x, y, v, t in points if x is not None and y is not None]
    x_log = _log_axis(px, log_x)
    y_log = _log_axis(py, log_y)
    fig = figure(
        title=title(data, f"Contour of {x_name} and {y_name}"),
        xaxis=_contour_axis(px, x_log),
        yaxis=_contour_axis(py, y_log),
    )
    grid = _interpolate(complete, x_log, y_log)
    if grid is not None:
        gx, gy, gz = grid
        fig.add_trace(
            go.Contour(
                x=gx,
                y=gy,
                z=gz,
                colorscale=COLORSCALE,
                reversescale=not info.maximize,
                connectgaps=True,
                colorbar={"title": {"text": metric_label(info)}},
                hoverinfo="skip",
                name=info.name,
            )
        )
    shown_rows = capped([(t, v) for _, _, v, t in complete], max_points, info.maximize)
    by_name = {t.name: (x, y) for x, y, _, t in complete}
    fig.add_trace(
        go.Scatter(
            x=numbers([by_name[t.name][0] for t, _ in shown_rows]),
            y=numbers([by_name[t.name][1] for t, _ in shown_rows]),
            mode="markers",
            marker={"color": "black", "size": 5, "line": {"color": "white", "width": 1}},
            text=texts([f"{t.name}: {info.name}={v:.6g}" for t, v in shown_rows]),
            hovertemplate="%{text}<extra></extra>",
            name="trials",
            showlegend=False,
        )
    )
    return fig


def _log_axis(parameter: ParameterInfo, requested: bool | None) -> bool:
    if parameter.categorical:
        return False
    return parameter.log if requested is None else requested


def _contour_axis(parameter: ParameterInfo, log: bool) -> dict[str, Any]:
    axis: dict[str, Any] = {"title": {"text": parameter.name}, "type": "log" if log else "linear"}
    if parameter.categorical:
        axis["tickvals"] = list(range(len(parameter.choices)))
        axis["ticktext"] = [str(c) for c in parameter.choices]
    return axis


def _interpolate(
    points: list[tuple[float, float, float, TrialData]], x_log: bool, y_log: bool
) -> tuple[Any, Any, Any] | None:
    """The values on a CONTOUR_GRID square grid by inverse-distance weighting of up to IDW_POINTS trials.

    Each axis is scaled to [0, 1] (in log10 for log axes) so both count alike. Delaunay-based linear
    interpolation (scipy's griddata) takes seconds on the repeated coordinates of integer and categorical
    parameters; this is one numpy product of grid cells by trials. None with fewer than 3 distinct points.
    """
    import numpy as np

    usable = [(x, y, v) for x, y, v, _ in points if (not x_log or x > 0) and (not y_log or y > 0)]
    if len({(x, y) for x, y, _ in usable}) < 3:
        return None
    if len(usable) > IDW_POINTS:
        usable = [usable[round(k * (len(usable) - 1) / (IDW_POINTS - 1))] for k in range(IDW_POINTS)]
    xs = np.array([x for x, _, _ in usable], dtype=float)
    ys = np.array([y for _, y, _ in usable], dtype=float)
    zs = np.array([v for _, _, v in usable], dtype=float)
    if x_log:
        xs = np.log10(xs)
    if y_log:
        ys = np.log10(ys)
    if xs.min() == xs.max() or ys.min() == ys.max():
        return None
    gx = np.linspace(xs.min(), xs.max(), CONTOUR_GRID)
    gy = np.linspace(ys.min(), ys.max(), CONTOUR_GRID)
    ux, uy = (xs - xs.min()) / np.ptp(xs), (ys - ys.min()) / np.ptp(ys)
    cells = np.linspace(0.0, 1.0, CONTOUR_GRID)
    dx = cells[:, None] - ux[None, :]  # grid column x trial
    dy = cells[:, None] - uy[None, :]  # grid row x trial
    distance2 = dy[:, None, :] ** 2 + dx[None, :, :] ** 2  # row x column x trial
    weights = 1.0 / np.maximum(distance2, 1e-12)
    gz = (weights * zs).sum(axis=2) / weights.sum(axis=2)
    return (10**gx if x_log else gx), (10**gy if y_log else gy), gz
