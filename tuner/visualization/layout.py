"""The look the figures share: titles, axis labels, state colours, and the axis of a parameter."""

from __future__ import annotations

from typing import Any

from tuner.visualization.data import ExperimentData, MetricInfo, ParameterInfo

STATE_COLORS = {
    "Succeeded": "#2ca02c",
    "EarlyStopped": "#17becf",
    "Running": "#1f77b4",
    "Created": "#7f7f7f",
    "Failed": "#d62728",
    "MetricsUnavailable": "#ff7f0e",
    "Killed": "#9467bd",
}
BEST_COLOR = "#d62728"
POINT_COLOR = "#1f77b4"


def figure(**layout: Any) -> Any:
    """An empty figure with the shared layout (plotly is imported here, never at `import tuner`)."""
    import plotly.graph_objects as go

    base: dict[str, Any] = {"margin": {"l": 60, "r": 20, "t": 50, "b": 50}, "hovermode": "closest"}
    return go.Figure(layout={**base, **layout})


def title(data: ExperimentData, what: str) -> dict[str, Any]:
    return {"text": f"{what} of {data.name}", "x": 0.02}


def metric_label(metric: MetricInfo) -> str:
    arrow = "↑" if metric.maximize else "↓"
    return f"{metric.name} ({metric.strategy}, {arrow})"


def parameter_axis(parameter: ParameterInfo, log: bool | None) -> dict[str, Any]:
    """A cartesian axis for a parameter: categories for categoricals, log when declared (or asked)."""
    if parameter.categorical:
        return {"title": {"text": parameter.name}, "type": "category"}
    use_log = parameter.log if log is None else log
    return {"title": {"text": parameter.name}, "type": "log" if use_log else "linear"}


def category_text(value: Any) -> str:
    return str(value)


def numbers(values: Any) -> Any:
    """A float numpy array: plotly validates arrays in one step, lists element by element (10x slower)."""
    import numpy as np

    return np.asarray(values, dtype=float)


def texts(values: Any) -> Any:
    """An object numpy array of strings (hover texts, category values), for the same reason."""
    import numpy as np

    out = np.empty(len(values), dtype=object)
    out[:] = [str(v) for v in values]
    return out
