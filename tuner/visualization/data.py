"""`ExperimentData`: what every figure reads, loaded once from a store, a store URL or a `tuner.Client`.

The figures never talk to the store themselves: the dashboard loads an experiment once (10,000 trials are
three streamed queries of the store's trial outlines: no run specs, labels or runtimes) and draws all nine
figures from the same object. Metric series are the one large part (100 points x 10,000 trials is a
million rows), so they are read lazily, per metric and only for the trials a figure asks for, in one query
of two columns, and series longer than `max_series_points` are thinned in the database.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from tuner.store.records import Goal, MetricStrategy

if TYPE_CHECKING:
    from tuner.client import Client
    from tuner.store import Store

Point = tuple[float, float]
"""(step, value) of a metric series; a point reported without a step gets its position as step."""

SeriesLoader = Callable[[str, Sequence["TrialData"]], Mapping[str, Sequence[Point]]]


@dataclass(frozen=True)
class MetricInfo:
    """A metric of the spec: its goal (the objective's, or the one its strategy implies) and its strategy."""

    name: str
    goal: str  # "minimize" | "maximize"
    strategy: str  # "min" | "max" | "latest": which value of a trial's series stands for the trial

    @property
    def maximize(self) -> bool:
        return self.goal == "maximize"


@dataclass(frozen=True)
class ParameterInfo:
    """A parameter of the search space, as much as a figure needs to draw an axis for it."""

    name: str
    type: str  # "double" | "int" | "categorical" | "discrete"
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = ()
    log: bool = False
    step: float | None = None

    @property
    def categorical(self) -> bool:
        return self.type == "categorical"


@dataclass(frozen=True)
class TrialData:
    """One trial: typed parameters, each metric's value by its strategy, how many points it reported."""

    number: int
    name: str
    state: str
    params: Mapping[str, Any]
    metrics: Mapping[str, float]
    points: Mapping[str, int] = field(default_factory=dict)
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class ExperimentData:
    """An experiment's spec (objective, metrics, parameters), its trials, and its metric series on demand.

    `series(metric, trials)` reads (and caches) the series of those trials, each thinned to at most
    `max_series_points` points. Built by `load_experiment_data`; tests may build one directly.
    """

    name: str
    namespace: str
    state: str
    objective: MetricInfo
    metrics: tuple[MetricInfo, ...]
    parameters: tuple[ParameterInfo, ...]
    trials: tuple[TrialData, ...]
    max_series_points: int = 200
    loader: SeriesLoader | None = field(default=None, repr=False, compare=False)
    _cache: dict[tuple[str, str], tuple[Point, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    def metric(self, name: str | None) -> MetricInfo:
        """The metric called `name` (the objective when None); KeyError when the spec has no such metric."""
        if name is None:
            return self.objective
        for info in self.metrics:
            if info.name == name:
                return info
        raise KeyError(name)

    def parameter(self, name: str) -> ParameterInfo:
        for info in self.parameters:
            if info.name == name:
                return info
        raise KeyError(name)

    def series(self, metric: str, trials: Sequence[TrialData]) -> dict[str, tuple[Point, ...]]:
        """trial name -> the trial's (step, value) points of `metric`, thinned; trials without any are left out."""
        with self._lock:
            missing = [t for t in trials if (metric, t.name) not in self._cache]
            if missing and self.loader is not None:
                loaded = self.loader(metric, missing)
                for trial in missing:
                    points = loaded.get(trial.name) or ()
                    self._cache[(metric, trial.name)] = thin_series(points, self.max_series_points)
            return {
                t.name: self._cache[(metric, t.name)] for t in trials if self._cache.get((metric, t.name))
            }

    def _repr_html_(self) -> str:
        from tuner.visualization.html import experiment_html

        return experiment_html(self)


def thin_series(points: Sequence[Point], cap: int) -> tuple[Point, ...]:
    """At most `cap` points, evenly spread, always keeping the first and the last (the curve's ends)."""
    n = len(points)
    if n <= cap:
        return tuple(points)
    if cap <= 1:
        return (points[-1],)
    return tuple(points[round(i * (n - 1) / (cap - 1))] for i in range(cap))


# --- loading -----------------------------------------------------------------------------------------------


def load_experiment_data(
    source: Any, name: str, namespace: str = "default", *, max_series_points: int = 200
) -> ExperimentData:
    """Load an experiment for the figures.

    Args:
        source: a `tuner.store.Store`, a store URL, or a `tuner.Client` (reading its store, or a server when
            it was made with `host=`).
        name: the experiment.
        namespace: its namespace.
        max_series_points: each trial's metric series is thinned to this many points when read.

    Raises:
        NotFoundError: no such experiment (the message says where it does exist, or what was meant).
        TypeError: `source` is none of the three.
    """
    from tuner.client import Client
    from tuner.store import Store

    if max_series_points < 2:
        raise ValueError(f"max_series_points={max_series_points} is too small: give 2 or more")
    if isinstance(source, Store):
        return _from_store(source, name, namespace, max_series_points, close=False)
    if isinstance(source, str):
        from tuner.store import open_store

        store = open_store(source)
        return _from_store(store, name, namespace, max_series_points, close=True, url=source)
    if isinstance(source, Client):
        return _from_client(source, name, namespace, max_series_points)
    raise TypeError(
        f"source must be a tuner.store.Store, a store URL or a tuner.Client, got {type(source).__name__}"
    )


def _from_client(client: Client, name: str, namespace: str, cap: int) -> ExperimentData:
    remote = client._remote  # the client's own transport: the figures read what its methods read
    if remote is None:
        return _from_store(client._store, name, namespace, cap, close=False)
    document = remote.get(f"/api/v1/experiments/{namespace}/{name}")
    base = f"/api/v1/experiments/{namespace}/{name}/trials"
    docs = remote.items(base)
    metrics, objective, parameters, space = _spec_parts(document)
    trials = tuple(_trial_from_document(i, doc, metrics, space) for i, doc in enumerate(docs))

    def loader(metric: str, wanted: Sequence[TrialData]) -> dict[str, list[Point]]:
        out: dict[str, list[Point]] = {}
        for trial in wanted:
            body = remote.get(f"{base}/{trial.name}/metrics", {"metric": [metric]})
            for entry in body.get("metrics") or []:
                if entry.get("name") == metric:
                    out[trial.name] = _points(
                        (p.get("step"), p.get("value")) for p in entry.get("points") or []
                    )
        return out

    status = document.get("status") or {}
    state = _last_true_condition(status.get("conditions") or [], "Created")
    return ExperimentData(name, namespace, state, objective, metrics, parameters, trials, cap, loader)


def _from_store(
    store: Store, name: str, namespace: str, cap: int, *, close: bool, url: str | None = None
) -> ExperimentData:
    from tuner.visualization import _collector_paused

    try:
        with _collector_paused():  # ~100,000 small objects: collections cost a third of the load
            record, metrics, objective, parameters, trials, ids = _outlines(store, name, namespace)
    finally:
        if close:
            store.close()
    experiment_id = record.id

    def loader(metric: str, wanted: Sequence[TrialData]) -> dict[str, list[Point]]:
        if close:
            from tuner.store import open_store

            assert url is not None
            reader = open_store(url)
        else:
            reader = store
        try:
            return _read_series(reader, experiment_id, metric, wanted, ids, cap)
        finally:
            if close:
                reader.close()

    return ExperimentData(
        record.name,
        record.namespace,
        record.state.value,
        objective,
        metrics,
        parameters,
        tuple(trials),
        cap,
        loader,
    )


def _outlines(
    store: Store, name: str, namespace: str
) -> tuple[
    Any, tuple[MetricInfo, ...], MetricInfo, tuple[ParameterInfo, ...], list[TrialData], dict[str, int]
]:
    """The experiment's record, spec parts, trials (from the store's trial outlines) and trial ids by name."""
    from tuner.lookups import find_experiment

    record = find_experiment(store, name, namespace)
    metrics, objective, parameters, space = _spec_parts(record.spec)
    # the summary's field for each metric's strategy (MetricSummary.value_for without the enum, per row)
    fields = {m.name: _SUMMARY_FIELD[MetricStrategy(m.strategy)] for m in metrics}
    typed = _Typer(space)
    trials = []
    ids: dict[str, int] = {}
    for outline in store.trial_outlines(record.id):  # three queries, no full Trial records
        ids[outline.name] = outline.id
        values: dict[str, float] = {}
        points: dict[str, int] = {}
        for metric_name, summary in outline.metrics.items():
            value = getattr(summary, fields.get(metric_name, "latest"))
            if value is not None and not math.isnan(value):
                values[metric_name] = value
            points[metric_name] = summary.count
        trials.append(
            TrialData(
                outline.number,
                outline.name,
                outline.state.value,
                typed(outline.assignments),
                values,
                points,
                _utc(outline.started_at),
                _utc(outline.completed_at),
            )
        )
    return record, metrics, objective, parameters, trials, ids


_SUMMARY_FIELD = {MetricStrategy.MIN: "min", MetricStrategy.MAX: "max", MetricStrategy.LATEST: "latest"}


def _read_series(
    store: Store,
    experiment_id: int,
    metric: str,
    wanted: Sequence[TrialData],
    ids: Mapping[str, int],
    cap: int,
) -> dict[str, list[Point]]:
    """One query for the trials asked (two columns per point); long series are thinned in the database."""
    names = {ids[t.name]: t.name for t in wanted if t.name in ids}
    longest = max((t.points.get(metric, 0) for t in wanted), default=0)
    by_id = store.series_points(experiment_id, metric, names, max_points=cap if longest > cap else None)
    return {names[i]: _points(series) for i, series in by_id.items() if i in names}


def _points(pairs: Any) -> list[Point]:
    out: list[Point] = []
    for position, (step, value) in enumerate(pairs):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        out.append((float(position if step is None else step), float(value)))
    return out


def _spec_parts(
    document: Mapping[str, Any],
) -> tuple[tuple[MetricInfo, ...], MetricInfo, tuple[ParameterInfo, ...], Any]:
    """The metrics (objective first) and the parameters of a stored Experiment document."""
    from tuner.views import search_space

    spec = document.get("spec") or {}
    objective = spec.get("objective") or {}
    goal = Goal.MAXIMIZE if objective.get("type") == "maximize" else Goal.MINIMIZE
    strategies = {str(s.get("name")): str(s.get("value")) for s in objective.get("metricStrategies") or []}
    default_strategy = "max" if goal == Goal.MAXIMIZE else "min"
    names = [objective.get("objectiveMetricName")]
    goals: dict[str, str] = {}
    for item in objective.get("objectives") or []:  # several objectives, each with its own direction
        metric = item.get("metricName") or item.get("objectiveMetricName") or item.get("name")
        if metric:
            names.append(metric)
            goals[str(metric)] = "maximize" if item.get("type") == "maximize" else "minimize"
    names += objective.get("additionalMetricNames") or []
    metrics = []
    for metric in dict.fromkeys(str(n) for n in names if n):
        strategy = strategies.get(metric, default_strategy)
        if metric in goals:
            metric_goal = goals[metric]
        elif metric == objective.get("objectiveMetricName") or strategy not in ("min", "max"):
            metric_goal = goal.value
        else:  # an additional metric kept by its min is one to minimise, by its max one to maximise
            metric_goal = "minimize" if strategy == "min" else "maximize"
        metrics.append(MetricInfo(metric, metric_goal, strategy))
    if not metrics:
        metrics.append(MetricInfo("objective", goal.value, default_strategy))
    record = type("_Spec", (), {"spec": document})()
    space = search_space(record)
    parameters = tuple(_parameter_info(p) for p in space) if space is not None else ()
    return tuple(metrics), metrics[0], parameters, space


def _parameter_info(parameter: Any) -> ParameterInfo:
    kind = parameter.parameter_type
    if kind in ("double", "int"):
        return ParameterInfo(
            parameter.name, kind, parameter.low, parameter.high, log=parameter.log, step=parameter.step
        )
    values = tuple(parameter.values)
    if kind == "discrete":
        numbers = [float(v) for v in values]
        return ParameterInfo(parameter.name, kind, min(numbers), max(numbers), values)
    return ParameterInfo(parameter.name, kind, choices=values)


class _Typer:
    """`_typed` for many trials: each parameter's kind looked up once, each categorical text parsed once."""

    def __init__(self, space: Any) -> None:
        self._space = space
        self._kinds: dict[str, str | None] = {}
        self._parsed: dict[tuple[str, str], Any] = {}

    def __call__(self, assignments: Sequence[Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for a in assignments:
            name = a.name
            kind = self._kinds.get(name, "?")
            if kind == "?":
                parameter = self._space[name] if self._space is not None and name in self._space else None
                kind = self._kinds[name] = parameter.parameter_type if parameter is not None else None
            if kind == "double" and a.numeric is not None:
                out[name] = float(a.numeric)
            elif kind == "int" and a.numeric is not None:
                out[name] = int(a.numeric)
            else:
                key = (name, a.value)
                if key not in self._parsed:
                    self._parsed[key] = _typed({name: a.value}, self._space)[name]
                out[name] = self._parsed[key]
        return out


def _typed(rendered: Mapping[str, str], space: Any, assignments: Sequence[Any] = ()) -> dict[str, Any]:
    """Typed parameter values: the store's numeric copy for numbers, the space's parse for the rest."""
    numeric = {a.name: a.numeric for a in assignments}
    out: dict[str, Any] = {}
    for key, text in rendered.items():
        parameter = space[key] if space is not None and key in space else None
        kind = parameter.parameter_type if parameter is not None else None
        if kind == "double" and numeric.get(key) is not None:
            out[key] = float(numeric[key])
        elif kind == "int" and numeric.get(key) is not None:
            out[key] = int(numeric[key])
        elif parameter is not None:
            try:
                out[key] = parameter.parse(text)
            except ValueError:
                out[key] = text
        else:
            out[key] = text
    return out


def _trial_from_document(
    index: int, document: Mapping[str, Any], metrics: Sequence[MetricInfo], space: Any
) -> TrialData:
    """A Trial object of the REST API (Katib's shape) as TrialData; its number is its place in the list."""
    spec = document.get("spec") or {}
    status = document.get("status") or {}
    rendered = {str(a.get("name")): str(a.get("value")) for a in spec.get("parameterAssignments") or []}
    strategies = {m.name: m.strategy for m in metrics}
    values: dict[str, float] = {}
    points: dict[str, int] = {}
    for item in (status.get("observation") or {}).get("metrics") or []:
        metric = str(item.get("name"))
        text = item.get(strategies.get(metric, "latest"))
        try:
            value = float(text)
        except (TypeError, ValueError):
            continue
        if not math.isnan(value):
            values[metric] = value
            points[metric] = 1  # the API gives a summary, not the count: at least one point exists
    state = _last_true_condition(status.get("conditions") or [], "Created")
    return TrialData(
        index,
        str((document.get("metadata") or {}).get("name")),
        state,
        _typed(rendered, space),
        values,
        points,
        _parse_time(status.get("startTime")),
        _parse_time(status.get("completionTime")),
    )


def _last_true_condition(conditions: Sequence[Mapping[str, Any]], default: str) -> str:
    state = default
    for condition in conditions:
        if condition.get("status") == "True":
            state = str(condition.get("type"))
    return state


def _parse_time(text: Any) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone.utc)
