"""Figures of an experiment as plotly figures, for notebooks and the dashboard alike.

    >>> from tuner.visualization import load_experiment_data, plot_optimization_history
    >>> data = load_experiment_data("sqlite:///tuner.db", "my-experiment")   # doctest: +SKIP
    >>> plot_optimization_history(data).show()                                 # doctest: +SKIP

`figure(kind, data, **options)` draws any of `FIGURE_KINDS`; `options_of(kind)` lists its options and
`parse_options(kind, query)` reads them from a URL query string (the dashboard's path). Every figure draws at
most `max_points` points (the best ones and an even sample), so a 10,000-trial experiment stays small.
plotly is imported when a figure is drawn, never at `import tuner`.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from tuner.visualization.data import (
    ExperimentData,
    MetricInfo,
    ParameterInfo,
    TrialData,
    load_experiment_data,
)
from tuner.visualization.options import (
    FIGURE_KINDS,
    FigureOptionError,
    check_options,
    options_of,
    parse_options,
)

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = [
    "FIGURE_KINDS",
    "ExperimentData",
    "FigureOptionError",
    "MetricInfo",
    "ParameterInfo",
    "TrialData",
    "figure",
    "figure_json",
    "load_experiment_data",
    "options_of",
    "parse_options",
    "plot_contour",
    "plot_edf",
    "plot_intermediate_values",
    "plot_optimization_history",
    "plot_parallel_coordinate",
    "plot_param_importances",
    "plot_pareto_front",
    "plot_slice",
    "plot_timeline",
]


def _drawer(kind: str) -> Callable[..., Any]:
    if kind == "history":
        from tuner.visualization.history import history

        return history
    if kind == "edf":
        from tuner.visualization.history import edf

        return edf
    if kind == "parallel":
        from tuner.visualization.params import parallel

        return parallel
    if kind == "slice":
        from tuner.visualization.params import slices

        return slices
    if kind == "contour":
        from tuner.visualization.params import contour

        return contour
    if kind == "importance":
        from tuner.visualization.importance import importance

        return importance
    if kind == "intermediate":
        from tuner.visualization.curves import intermediate

        return intermediate
    if kind == "pareto":
        from tuner.visualization.pareto import pareto

        return pareto
    from tuner.visualization.timeline import timeline

    return timeline


def figure(kind: str, data: ExperimentData, **options: Any) -> go.Figure:
    """The figure `kind` (one of FIGURE_KINDS) of `data`.

    Raises:
        FigureOptionError: an unknown kind or option, a bad value, or a metric or parameter the experiment
            does not have (the message names the option, the value and the fix).
    """
    checked = check_options(kind, options)
    with _collector_paused():
        result: go.Figure = _drawer(kind)(data, **checked)
    return result


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a figure is drawn.

    Drawing allocates tens of thousands of small objects next to a loaded 10,000-trial experiment (itself
    ~100,000 objects); each full collection walks them all, and measured up to half of a contour's time.
    The figures make no reference cycles worth collecting meanwhile; the collector resumes after.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def figure_json(kind: str, data: ExperimentData, **options: Any) -> dict[str, Any]:
    """`figure(...).to_plotly_json()` made JSON-safe: arrays as plain lists (not plotly's base64 typed
    arrays, so any reader can count and read the points), NaN and infinities as null, dates as ISO text."""
    from tuner.visualization.jsonsafe import json_safe

    body: dict[str, Any] = json_safe(figure(kind, data, **options).to_plotly_json())
    return body


def _data(data_or_result: Any) -> ExperimentData:
    """ExperimentData as given, or loaded from a `tune()` result's store."""
    if isinstance(data_or_result, ExperimentData):
        return data_or_result
    store = getattr(data_or_result, "store", None)
    experiment = getattr(data_or_result, "experiment", None)
    if isinstance(store, str) and isinstance(experiment, str):
        return load_experiment_data(store, experiment, getattr(data_or_result, "namespace", "default"))
    raise TypeError(
        "expected ExperimentData (from load_experiment_data) or the result of tuner.tune(), "
        f"got {type(data_or_result).__name__}"
    )


def plot_optimization_history(data_or_result: Any, **options: Any) -> go.Figure:
    """Each trial's value by trial number and the best so far (options: `options_of("history")`)."""
    return figure("history", _data(data_or_result), **options)


def plot_parallel_coordinate(data_or_result: Any, **options: Any) -> go.Figure:
    """One line per trial through the metric and every parameter (options: `options_of("parallel")`)."""
    return figure("parallel", _data(data_or_result), **options)


def plot_slice(data_or_result: Any, **options: Any) -> go.Figure:
    """The metric against each parameter, one panel each (options: `options_of("slice")`)."""
    return figure("slice", _data(data_or_result), **options)


def plot_contour(data_or_result: Any, **options: Any) -> go.Figure:
    """The metric over two parameters, `params=(a, b)` (options: `options_of("contour")`)."""
    return figure("contour", _data(data_or_result), **options)


def plot_param_importances(data_or_result: Any, **options: Any) -> go.Figure:
    """Parameter importance, `evaluator="fanova"` or `"ped-anova"` (options: `options_of("importance")`)."""
    return figure("importance", _data(data_or_result), **options)


def plot_edf(data_or_result: Any, **options: Any) -> go.Figure:
    """The empirical distribution of the metric's values (options: `options_of("edf")`)."""
    return figure("edf", _data(data_or_result), **options)


def plot_intermediate_values(data_or_result: Any, **options: Any) -> go.Figure:
    """Learning curves from the metric series (options: `options_of("intermediate")`)."""
    return figure("intermediate", _data(data_or_result), **options)


def plot_pareto_front(data_or_result: Any, **options: Any) -> go.Figure:
    """Two metrics, `metrics=(m1, m2)`, and their Pareto front (options: `options_of("pareto")`)."""
    return figure("pareto", _data(data_or_result), **options)


def plot_timeline(data_or_result: Any, **options: Any) -> go.Figure:
    """Trials on a time axis coloured by state (options: `options_of("timeline")`)."""
    return figure("timeline", _data(data_or_result), **options)
