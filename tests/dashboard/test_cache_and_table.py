"""The dashboard's server side without a browser: the experiment cache loads once per version and reloads
when a trial is added; the trial table filters, sorts and exports like the store says; filter errors name
the condition."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.visualization.conftest import build_big
from tuner.dashboard.cache import ExperimentCache
from tuner.dashboard.table import TableQueryError, best_trial, select, to_csv
from tuner.store import open_store
from tuner.store.records import Assignment


def test_cache_reuses_a_load_until_the_trials_change(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tuner.db'}"
    build_big(url, trials=20, steps=2, name="cached")
    store = open_store(url)
    try:
        cache = ExperimentCache()
        record = store.get_experiment("cached")
        first_version, first = cache.get(store, record)
        again_version, again = cache.get(store, store.get_experiment("cached"))
        assert cache.loads == 1 and again is first and again_version == first_version
        store.create_trial(record.id, "cached-new", [Assignment("lr", "0.01", 0.01)], number=20)
        _, reloaded = cache.get(store, store.get_experiment("cached"))
        assert cache.loads == 2 and len(reloaded.trials) == 21
    finally:
        store.close()


def test_table_filters_sorts_and_exports(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tuner.db'}"
    build_big(url, trials=30, steps=2, name="table")
    store = open_store(url)
    try:
        _, data = ExperimentCache().get(store, store.get_experiment("table"))
    finally:
        store.close()
    rows = select(data, filter_text="layers>=4, optimizer=sgd", sort="metric:accuracy", descending=True)
    expected = [t for t in data.trials if t.params["layers"] >= 4 and t.params["optimizer"] == "sgd"]
    assert sorted(t.name for t in rows) == sorted(t.name for t in expected) and rows
    assert [t.metrics["accuracy"] for t in rows] == sorted(
        (t.metrics["accuracy"] for t in rows), reverse=True
    )
    assert select(data, states=["Failed"]) == [t for t in data.trials if t.state == "Failed"]
    table = list(csv.DictReader(io.StringIO(to_csv(data, rows))))
    assert [r["name"] for r in table] == [t.name for t in rows]
    assert float(table[0]["accuracy"]) == rows[0].metrics["accuracy"]
    best = best_trial(data)
    assert best is not None and best.metrics["accuracy"] == max(t.metrics["accuracy"] for t in data.trials)
    with pytest.raises(TableQueryError, match=r"'depth'.*no parameter or metric"):
        select(data, filter_text="depth<3")
    with pytest.raises(TableQueryError, match="needs a number"):
        select(data, filter_text="layers<many")
    with pytest.raises(TableQueryError) as bad_sort:
        select(data, sort="param:nope")
    assert bad_sort.value.field == "sort"
