"""SQL for metric series, their per-(trial, metric) summaries, best trial, comparison and early stopping.

Part of `tuner.store.sql.SqlStore`; see `tuner.store.base` for the contract. This is the hot path: trial
processes append observations while the controller reads summaries. Every write appends to
`metric_points` and upserts `metric_summaries` (count, min, max, latest by (timestamp, step)) in the same
transaction, with one INSERT ... ON CONFLICT DO UPDATE that both backends understand; a batch is first
folded in Python to one summary row per (trial, metric), so a 100,000-point batch costs one upsert per
series, not per point.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Collection, Iterable, Sequence
from typing import Any, cast

from sqlalchemy import Connection, and_, bindparam, case, func, insert, or_, select
from sqlalchemy.exc import IntegrityError

from tuner.errors import NotFoundError, StoreValueError
from tuner.states import TrialState
from tuner.store._engine import is_foreign_key_violation
from tuner.store._sql_tuning import _TRIAL_STATES, A, E, T, load_trial, load_trials
from tuner.store._sqlbase import (
    SqlBase,
    loaded_float,
    new_id,
    raw_rows,
    require,
    stored_float,
    utc_from_driver,
)
from tuner.store.models import EarlyStoppingDecisionRow, MetricPointRow, MetricSummaryRow, table
from tuner.store.records import (
    Assignment,
    BestTrial,
    ComparisonRow,
    EarlyStoppingDecision,
    Goal,
    MetricPoint,
    MetricStrategy,
    MetricSummary,
    Observation,
    SeriesPoint,
    Trial,
    TrialOrder,
    TrialOutline,
)

P = table(MetricPointRow)
S = table(MetricSummaryRow)
D = table(EarlyStoppingDecisionRow)

_INSERT_POINT = insert(P)
_MAX_IDS = 1000  # a page this long is read by id; longer selections are read whole (bound parameter limits)
_POINT_COLUMNS = ("trial_id", "name", "step", "value", "timestamp")
# the columns of a summary in the order of MetricSummary's fields
_SUMMARY_READ = (
    "trial_id",
    "name",
    "count",
    "min_value",
    "max_value",
    "latest_value",
    "latest_step",
    "latest_timestamp",
)
_SUMMARY_COLUMNS = (
    "trial_id",
    "name",
    "experiment_id",
    "count",
    "min_value",
    "max_value",
    "latest_value",
    "latest_step",
    "latest_timestamp",
)


def _run_in_transaction(cursor: Any, point_sql: str, points: Any, summary_sql: str, summaries: Any) -> None:
    cursor.execute("BEGIN IMMEDIATE")
    try:
        cursor.executemany(point_sql, points)
        cursor.executemany(summary_sql, summaries)
        cursor.execute("COMMIT")
    except BaseException:
        cursor.execute("ROLLBACK")
        raise
    finally:
        cursor.close()


def _fold(observations: Sequence[Observation]) -> tuple[list[tuple[Any, ...]], dict[tuple[int, str], _Fold]]:
    """Validate observations; return the rows to append and one running summary per (trial, metric)."""
    now = time.time()
    points: list[tuple[Any, ...]] = []
    folds: dict[tuple[int, str], _Fold] = {}
    for o in observations:
        if not o.name:
            raise StoreValueError(f"metric name must be non-empty (trial {o.trial_id}); nothing was stored")
        value = stored_float(o.value)
        timestamp = now if o.timestamp is None else float(o.timestamp)
        step = None if o.step is None else int(o.step)
        points.append((o.trial_id, o.name, step, value, timestamp))
        fold = folds.get((o.trial_id, o.name))
        if fold is None:
            folds[(o.trial_id, o.name)] = _Fold(value, step, timestamp)
        else:
            fold.add(value, step, timestamp)
    return points, folds


class _Fold:
    """Running summary of the observations of one (trial, metric) within a batch."""

    __slots__ = ("count", "latest_step", "latest_timestamp", "latest_value", "max_value", "min_value")

    def __init__(self, value: float | None, step: int | None, timestamp: float) -> None:
        self.count = 1
        self.min_value = value
        self.max_value = value
        self.latest_value = value
        self.latest_step = step
        self.latest_timestamp = timestamp

    def add(self, value: float | None, step: int | None, timestamp: float) -> None:
        self.count += 1
        if value is not None:
            if self.min_value is None or value < self.min_value:
                self.min_value = value
            if self.max_value is None or value > self.max_value:
                self.max_value = value
        key = (timestamp, -1 if step is None else step)
        if key >= (self.latest_timestamp, -1 if self.latest_step is None else self.latest_step):
            self.latest_value, self.latest_step, self.latest_timestamp = value, step, timestamp


def _summary_from_row(row: Any) -> MetricSummary:
    return MetricSummary(
        trial_id=row.trial_id,
        name=row.name,
        count=row.count,
        min=row.min_value,
        max=row.max_value,
        latest=row.latest_value,
        latest_step=row.latest_step,
        latest_timestamp=row.latest_timestamp,
    )


def _point_from_row(row: Any) -> MetricPoint:
    return MetricPoint(row.trial_id, row.name, row.step, loaded_float(row.value), row.timestamp)


class MetricsSql(SqlBase):
    """Metric writes and reads, early-stopping decisions."""

    _summary_upsert: Any = None
    _sqlite_sql: Any = None

    def _summary_statement(self) -> Any:
        """INSERT ... ON CONFLICT DO UPDATE merging a folded summary into the stored one (built once)."""
        if self._summary_upsert is not None:
            return self._summary_upsert
        statement = self._upsert(S).values({c: bindparam(c) for c in _SUMMARY_COLUMNS})
        new = statement.excluded
        newer = or_(
            new.latest_timestamp > S.c.latest_timestamp,
            and_(
                new.latest_timestamp == S.c.latest_timestamp,
                func.coalesce(new.latest_step, -1) >= func.coalesce(S.c.latest_step, -1),
            ),
        )

        def better(incoming: Any, stored: Any, wins: Any) -> Any:
            return case(
                (incoming.is_(None), stored), (stored.is_(None), incoming), (wins, incoming), else_=stored
            )

        statement = statement.on_conflict_do_update(
            index_elements=[S.c.trial_id, S.c.name],
            set_={
                "count": S.c["count"] + new["count"],
                "min_value": better(new.min_value, S.c.min_value, new.min_value < S.c.min_value),
                "max_value": better(new.max_value, S.c.max_value, new.max_value > S.c.max_value),
                "latest_value": case((newer, new.latest_value), else_=S.c.latest_value),
                "latest_step": case((newer, new.latest_step), else_=S.c.latest_step),
                "latest_timestamp": case((newer, new.latest_timestamp), else_=S.c.latest_timestamp),
            },
        )
        self._summary_upsert = statement
        return statement

    def _experiments_of(self, connection: Connection, trial_ids: Iterable[int]) -> dict[int, int]:
        """trial id -> experiment id, from the cache or one query; NotFoundError names unknown trials."""
        found: dict[int, int] = {}
        missing: list[int] = []
        for trial_id in trial_ids:
            experiment_id = self._trial_experiments.get(trial_id)
            if experiment_id is None:
                missing.append(trial_id)
            else:
                found[trial_id] = experiment_id
        if missing:
            rows = connection.execute(select(T.c.id, T.c.experiment_id).where(T.c.id.in_(missing))).all()
            for row in rows:
                found[row.id] = row.experiment_id
                self._trial_experiments.put(row.id, row.experiment_id)
            unknown = sorted(set(missing) - {row.id for row in rows})
            if unknown:
                raise NotFoundError(
                    f"trial {', '.join(map(str, unknown))} does not exist; nothing was stored"
                )
        return found

    # --- writes -----------------------------------------------------------------------------------------

    def log_metric(
        self, trial_id: int, name: str, value: float, step: int | None = None, timestamp: float | None = None
    ) -> None:
        self.log_metrics([Observation(trial_id, name, value, step, timestamp)])

    def log_metrics(self, observations: Sequence[Observation]) -> None:
        if not observations:
            return
        points, folds = _fold(observations)
        experiments = self._experiments_of_cached({trial for trial, _ in folds})
        summaries = [
            (trial, name, experiments[trial], f.count, f.min_value, f.max_value, f.latest_value, f.latest_step,
             f.latest_timestamp)
            for (trial, name), f in sorted(folds.items())  # one lock order for all writers: no deadlocks
        ]  # fmt: skip
        try:
            if self.dialect == "sqlite":
                self._write_metrics_sqlite(points, summaries)
            else:
                with self._write() as connection:
                    connection.execute(
                        _INSERT_POINT, [dict(zip(_POINT_COLUMNS, p, strict=True)) for p in points]
                    )
                    connection.execute(
                        self._summary_statement(),
                        [dict(zip(_SUMMARY_COLUMNS, s, strict=True)) for s in summaries],
                    )
        except (IntegrityError, sqlite3.IntegrityError) as exc:  # a cached trial was deleted meanwhile
            if "FOREIGN KEY" not in str(exc) and not (
                isinstance(exc, IntegrityError) and is_foreign_key_violation(exc)
            ):
                raise
            self._trial_experiments.forget([trial for trial, _ in folds])
            raise NotFoundError(
                "a trial of these observations no longer exists; nothing was stored"
            ) from None

    def _experiments_of_cached(self, trial_ids: set[int]) -> dict[int, int]:
        cached = {t: self._trial_experiments.get(t) for t in trial_ids}
        if all(e is not None for e in cached.values()):
            return cast(dict[int, int], cached)
        with self._read() as connection:
            return self._experiments_of(connection, trial_ids)

    def _sqlite_statements(self) -> tuple[str, list[int], str, list[tuple[int, Any]]]:
        """The two statements as SQL text with `?` parameters, and how to order each row's values."""
        if self._sqlite_sql is None:
            dialect = self._engine.dialect
            point = _INSERT_POINT.values({c: bindparam(c) for c in _POINT_COLUMNS}).compile(dialect=dialect)
            summary = self._summary_statement().compile(dialect=dialect)
            point_order = [_POINT_COLUMNS.index(name) for name in point.positiontup or ()]
            summary_order = [  # (index into the row, or -1 and the constant the statement binds itself)
                (_SUMMARY_COLUMNS.index(name), None)
                if name in _SUMMARY_COLUMNS
                else (-1, summary.params[name])
                for name in summary.positiontup or ()
            ]
            self._sqlite_sql = (str(point), point_order, str(summary), summary_order)
        return cast(tuple[str, list[int], str, list[tuple[int, Any]]], self._sqlite_sql)

    def _write_metrics_sqlite(self, points: list[tuple[Any, ...]], summaries: list[tuple[Any, ...]]) -> None:
        """The SQLite hot path: the same two statements, compiled once, on the thread's own connection.

        SQLAlchemy's per-statement and pool overhead is most of the cost of a one-point transaction on
        SQLite; skipping it more than doubles single-write throughput. The transaction discipline is
        unchanged (BEGIN IMMEDIATE ... COMMIT, ROLLBACK on any error).
        """
        point_sql, point_order, summary_sql, summary_order = self._sqlite_statements()
        point_rows = [tuple(p[i] for i in point_order) for p in points]
        summary_rows = [tuple(s[i] if i >= 0 else c for i, c in summary_order) for s in summaries]
        if self._metric_connections is None:  # in-memory SQLite: only the pool's one connection sees it
            raw = self._engine.raw_connection()
            try:
                _run_in_transaction(raw.cursor(), point_sql, point_rows, summary_sql, summary_rows)
            finally:
                raw.close()
        else:
            connection = self._metric_connections.get()
            _run_in_transaction(connection.cursor(), point_sql, point_rows, summary_sql, summary_rows)

    def record_early_stopping_decision(
        self,
        trial_id: int,
        rule: str,
        metric: str,
        *,
        stop: bool,
        step: int | None = None,
        value: float | None = None,
        threshold: float | None = None,
        reason: str = "",
    ) -> EarlyStoppingDecision:
        values = {
            "trial_id": trial_id,
            "rule": rule,
            "metric": metric,
            "stop": bool(stop),
            "step": step,
            "value": stored_float(value),
            "threshold": stored_float(threshold),
            "reason": reason,
            "decided_at": self._now(),
        }
        with self._write() as connection:
            require(connection, T, trial_id, "trial")
            decision_id = new_id(connection.execute(insert(D).values(values)))
            return _decision_from_row(require(connection, D, decision_id, "decision"))

    # --- reads ------------------------------------------------------------------------------------------

    def metric_series(self, trial_id: int, name: str) -> list[MetricPoint]:
        with self._read() as connection:
            require(connection, T, trial_id, "trial")
            rows = connection.execute(
                select(P)
                .where(P.c.trial_id == trial_id, P.c.name == name)
                .order_by(P.c.step.nulls_first(), P.c.timestamp, P.c.id)
            )
            return [_point_from_row(row) for row in rows]

    def experiment_metric_series(self, experiment_id: int, name: str) -> dict[int, list[MetricPoint]]:
        series: dict[int, list[MetricPoint]] = {}
        with self._read() as connection:
            require(connection, E, experiment_id, "experiment")
            rows = connection.execute(
                select(P)
                .join(T, T.c.id == P.c.trial_id)
                .where(T.c.experiment_id == experiment_id, P.c.name == name)
                .order_by(P.c.trial_id, P.c.step.nulls_first(), P.c.timestamp, P.c.id)
            )
            for row in rows:
                series.setdefault(row.trial_id, []).append(_point_from_row(row))
        return series

    def series_points(
        self,
        experiment_id: int,
        name: str,
        trial_ids: Collection[int] | None = None,
        *,
        max_points: int | None = None,
    ) -> dict[int, list[SeriesPoint]]:
        if max_points is not None and max_points < 2:
            raise StoreValueError(f"max_points must be 2 or more, got {max_points}")
        wanted = None if trial_ids is None else set(trial_ids)
        conditions: list[Any] = [T.c.experiment_id == experiment_id, P.c.name == name]
        if wanted is not None and len(wanted) <= _MAX_IDS:  # else read the metric whole and keep theirs
            conditions.append(P.c.trial_id.in_(sorted(wanted)))
        order = [P.c.step.nulls_first(), P.c.timestamp, P.c.id]
        if max_points is None:
            query = (
                select(P.c.trial_id, P.c.step, P.c.value)
                .join(T, T.c.id == P.c.trial_id)
                .where(*conditions)
                .order_by(P.c.trial_id, *order)
            )
        else:
            query = _thinned(conditions, order, max_points)
        series: dict[int, list[SeriesPoint]] = {}
        nan = float("nan")
        with self._read() as connection:
            require(connection, E, experiment_id, "experiment")
            current, points = None, cast(list[SeriesPoint], [])
            for trial_id, step, value in raw_rows(connection, query):
                if trial_id != current:
                    if wanted is not None and trial_id not in wanted:
                        continue
                    current, points = trial_id, series.setdefault(trial_id, [])
                points.append((step, nan if value is None else value))
        return series

    def trial_outlines(self, experiment_id: int) -> list[TrialOutline]:
        of_experiment = T.c.experiment_id == experiment_id
        with self._read() as connection:
            require(connection, E, experiment_id, "experiment")
            assignments: dict[int, list[Assignment]] = {}
            query = (
                select(A.c.trial_id, A.c.name, A.c.value, A.c.numeric)
                .join(T, A.c.trial_id == T.c.id)
                .where(of_experiment)
                .order_by(A.c.trial_id, A.c.position)
            )
            for trial_id, name, value, numeric in raw_rows(connection, query):
                assignments.setdefault(trial_id, []).append(Assignment(name, value, numeric))
            summaries: dict[int, dict[str, MetricSummary]] = {}
            query = select(*(S.c[c] for c in _SUMMARY_READ)).where(S.c.experiment_id == experiment_id)
            for row in raw_rows(connection, query):
                summaries.setdefault(row[0], {})[row[1]] = MetricSummary(*row)
            query = (
                select(T.c.id, T.c.number, T.c.name, T.c.state, T.c.started_at, T.c.completed_at)
                .where(of_experiment)
                .order_by(T.c.number)
            )
            return [
                TrialOutline(
                    trial_id,
                    number,
                    name,
                    _TRIAL_STATES[state],
                    tuple(assignments.get(trial_id, ())),
                    summaries.get(trial_id, {}),
                    utc_from_driver(started),
                    utc_from_driver(completed),
                )
                for trial_id, number, name, state, started, completed in raw_rows(connection, query)
            ]

    def metric_summaries(self, trial_id: int) -> dict[str, MetricSummary]:
        with self._read() as connection:
            require(connection, T, trial_id, "trial")
            rows = connection.execute(select(S).where(S.c.trial_id == trial_id).order_by(S.c.name))
            return {row.name: _summary_from_row(row) for row in rows}

    def best_trial(
        self,
        experiment_id: int,
        metric: str,
        goal: Goal,
        strategy: MetricStrategy = MetricStrategy.LATEST,
        states: Collection[TrialState] | None = None,
    ) -> BestTrial | None:
        strategy = MetricStrategy(strategy)
        column = {
            MetricStrategy.MIN: S.c.min_value,
            MetricStrategy.MAX: S.c.max_value,
            MetricStrategy.LATEST: S.c.latest_value,
        }[strategy]
        order = column.asc() if Goal(goal) == Goal.MINIMIZE else column.desc()
        query = select(S).where(S.c.experiment_id == experiment_id, S.c.name == metric, column.is_not(None))
        if states is not None:
            query = query.join(T, T.c.id == S.c.trial_id).where(
                T.c.state.in_([TrialState(s).value for s in states])
            )
        query = query.order_by(order, S.c.trial_id).limit(1)
        with self._read() as connection:
            require(connection, E, experiment_id, "experiment")
            row = connection.execute(query).first()
            if row is None:
                return None
            summary = _summary_from_row(row)
            value = summary.value_for(strategy)
            assert value is not None  # the query skipped NULLs
            return BestTrial(load_trial(connection, row.trial_id), value, summary)

    def compare_trials(
        self,
        experiment_id: int,
        metrics: Sequence[str] | None = None,
        states: Collection[TrialState] | None = None,
        *,
        sort_by: TrialOrder | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[ComparisonRow]:
        if (limit is not None and limit < 0) or offset < 0:
            raise StoreValueError(f"limit and offset must be 0 or more, got limit={limit} offset={offset}")
        conditions: list[Any] = [T.c.experiment_id == experiment_id]
        if states is not None:
            conditions.append(T.c.state.in_([TrialState(s).value for s in states]))
        with self._read() as connection:
            require(connection, E, experiment_id, "experiment")
            ordered: list[int] | None = None
            if sort_by is not None or limit is not None or offset:
                ordered = list(connection.scalars(_page_query(conditions, sort_by, limit, offset)))
                if len(ordered) <= _MAX_IDS:  # else read the whole selection and keep the page's rows
                    conditions = [T.c.id.in_(ordered)]
            summary_query = select(S).join(T, T.c.id == S.c.trial_id).where(*conditions)
            if metrics is not None:
                summary_query = summary_query.where(S.c.name.in_(list(metrics)))
            trials = load_trials(connection, *conditions) if ordered != [] else []
            by_trial: dict[int, dict[str, MetricSummary]] = {t.id: {} for t in trials}
            if trials:
                for row in connection.execute(summary_query.order_by(S.c.trial_id, S.c.name)):
                    if row.trial_id in by_trial:
                        by_trial[row.trial_id][row.name] = _summary_from_row(row)
        if ordered is not None:
            position = {trial_id: i for i, trial_id in enumerate(ordered)}
            trials = sorted((t for t in trials if t.id in position), key=lambda t: position[t.id])
        return [ComparisonRow(trial, by_trial[trial.id]) for trial in trials]

    def find_trials(self, text: str, namespace: str | None = None, limit: int = 20) -> list[Trial]:
        if not text:
            return []
        exact = T.c.name == text
        query = (
            select(T.c.id)
            .join(E, E.c.id == T.c.experiment_id)
            .where(
                or_(
                    exact,
                    T.c.name.startswith(text, autoescape=True),
                    T.c.name.contains(f"-{text}", autoescape=True),
                )
            )
            .order_by(case((exact, 0), else_=1), T.c.experiment_id, T.c.number)
            .limit(limit)
        )
        if namespace is not None:
            query = query.where(E.c.namespace == namespace)
        with self._read() as connection:
            ids = list(connection.scalars(query))
            trials = load_trials(connection, T.c.id.in_(ids)) if ids else []
        position = {trial_id: i for i, trial_id in enumerate(ids)}
        return sorted(trials, key=lambda t: position[t.id])

    def list_early_stopping_decisions(self, trial_id: int) -> list[EarlyStoppingDecision]:
        with self._read() as connection:
            require(connection, T, trial_id, "trial")
            rows = connection.execute(select(D).where(D.c.trial_id == trial_id).order_by(D.c.id))
            return [_decision_from_row(row) for row in rows]


def _page_query(conditions: list[Any], order: TrialOrder | None, limit: int | None, offset: int) -> Any:
    """The ids of one page of trials, in order: by a metric's summary value (best first, missing last)."""
    query = select(T.c.id).where(*conditions)
    keys: list[Any] = []
    if order is not None:
        column = {
            MetricStrategy.MIN: S.c.min_value,
            MetricStrategy.MAX: S.c.max_value,
            MetricStrategy.LATEST: S.c.latest_value,
        }[MetricStrategy(order.strategy)]
        query = query.outerjoin(S, and_(S.c.trial_id == T.c.id, S.c.name == order.metric))
        direction = column.asc() if Goal(order.goal) == Goal.MINIMIZE else column.desc()
        keys = [column.is_(None), direction]
    query = query.order_by(*keys, T.c.number).offset(offset)
    return query if limit is None else query.limit(limit)


def _thinned(conditions: list[Any], order: list[Any], cap: int) -> Any:
    """(trial_id, step, value) with each trial's series cut to `cap` evenly spread points in the database.

    Point k (from 0) of a series of n > cap points is kept when k * (cap - 1) mod (n - 1) < cap - 1: that
    is k = ceil(i * (n - 1) / (cap - 1)) for i = 0 .. cap - 1, so exactly `cap` points, the first and the
    last among them. Window functions: SQLite 3.25+ and PostgreSQL.
    """
    position = func.row_number().over(partition_by=P.c.trial_id, order_by=order) - 1
    size = func.count().over(partition_by=P.c.trial_id)
    inner = (
        select(P.c.trial_id, P.c.step, P.c.value, position.label("k"), size.label("n"))
        .join(T, T.c.id == P.c.trial_id)
        .where(*conditions)
        .subquery()
    )
    keep = or_(inner.c.n <= cap, (inner.c.k * (cap - 1)) % (inner.c.n - 1) < cap - 1)
    return (
        select(inner.c.trial_id, inner.c.step, inner.c.value)
        .where(keep)
        .order_by(inner.c.trial_id, inner.c.k)
    )


def _decision_from_row(row: Any) -> EarlyStoppingDecision:
    return EarlyStoppingDecision(
        id=row.id,
        trial_id=row.trial_id,
        rule=row.rule,
        metric=row.metric,
        step=row.step,
        value=row.value,
        threshold=row.threshold,
        stop=bool(row.stop),
        reason=row.reason,
        decided_at=row.decided_at,
    )
