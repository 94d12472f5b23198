"""`SqlStore`: the store contract on SQLAlchemy 2, for SQLite (the default) and PostgreSQL.

Most callers get one from `tuner.store.open_store`, which also migrates the schema. The class is
assembled from one part per area so that each file stays readable:

    _sql_tuning     experiments, leases, trials, claims
    _sql_metrics    metric series and summaries, best trial, comparison, early stopping
    _sql_pipelines  pipelines, versions, runs, tasks, artifacts, events, cache
    _sql_registry   registered models, versions, aliases, history, deployments, revisions, traffic
    _sql_lineage    the recursive lineage walk

How transactions work on each backend is explained in `tuner.store._engine`. This module does not
migrate: constructing `SqlStore` on an unmigrated database gives errors on first use.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from tuner.store._engine import make_engine, utc_now
from tuner.store._sql_lineage import LineageSql
from tuner.store._sql_metrics import MetricsSql
from tuner.store._sql_pipelines import PipelinesSql
from tuner.store._sql_registry import RegistrySql
from tuner.store._sql_tuning import TuningSql
from tuner.store.base import Store


def _forget_connections_after_fork(engine: Engine) -> None:
    """A forked child must not reuse the parent's connections (SQLAlchemy's advice for pools and fork)."""
    reference = weakref.ref(engine)

    def in_child() -> None:
        alive = reference()
        if alive is not None:
            alive.dispose(close=False)

    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=in_child)


class SqlStore(TuningSql, MetricsSql, PipelinesSql, RegistrySql, LineageSql, Store):
    """The metadata store on a SQLAlchemy engine. Safe to share between threads and to keep across a
    fork (the child opens its own connections).

    Args:
        url: SQLAlchemy URL, `sqlite:///PATH` or `postgresql+psycopg://...`.
        clock: returns the current UTC time; tests pass a fake one to expire leases without sleeping.
    """

    def __init__(self, url: str, *, clock: Callable[[], datetime] = utc_now) -> None:
        super().__init__(make_engine(url), clock)
        self.url = url
        _forget_connections_after_fork(self._engine)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for `tuner.store.migrate`; nothing outside `tuner.store` uses it)."""
        return self._engine

    def close(self) -> None:
        if self._metric_connections is not None:
            self._metric_connections.close()
        self._engine.dispose()

    def __repr__(self) -> str:
        return f"SqlStore({self._engine.url.render_as_string(hide_password=True)!r})"
