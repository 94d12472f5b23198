"""A 10,000-trial experiment: every figure stays under its point cap and keeps the best trials.

The store is written through the store API (see conftest.build_big); the figures are read back from it
with `load_experiment_data`, as the dashboard does. The same experiment, smaller, loads identically from
PostgreSQL.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.visualization.conftest import BIG_STEPS, BIG_TRIALS, build_big
from tuner.visualization import FIGURE_KINDS, ExperimentData, figure_json, load_experiment_data
from tuner.visualization.curves import MAX_CURVES
from tuner.visualization.importance import FANOVA_TRIALS, PED_ANOVA_TRIALS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def big(big_store: str) -> ExperimentData:
    return load_experiment_data(big_store, "big", max_series_points=3)


def drawn_points(body: dict[str, Any]) -> int:
    """Trial points a figure draws: markers, curve points, bars, parallel-coordinate lines."""
    total = 0
    for trace in body["data"]:
        if trace["type"] == "parcoords":
            total += len(trace["dimensions"][0]["values"])
        elif trace["type"] in ("scatter", "bar"):
            total += sum(1 for v in trace["x"] if v is not None)
    return total


def test_the_store_holds_ten_thousand_trials(big: ExperimentData) -> None:
    assert len(big.trials) == BIG_TRIALS
    assert sum(t.state == "Failed" for t in big.trials) == BIG_TRIALS // 50
    assert all(t.points.get("accuracy") == BIG_STEPS for t in big.trials)


@pytest.mark.parametrize("cap", [2000, 300])
def test_every_figure_honours_the_cap(big: ExperimentData, cap: int) -> None:
    options = {} if cap == 2000 else {"max_points": cap}  # 2000 is the default
    for kind in FIGURE_KINDS:
        kind_options: dict[str, Any] = dict(options)
        if kind == "importance":
            kind_options["evaluator"] = "ped-anova"
        body = figure_json(kind, big, **kind_options)
        count = drawn_points(body)
        if kind == "importance":
            assert [len(t["x"]) for t in body["data"]] == [3], kind
            assert f"{min(cap, PED_ANOVA_TRIALS)} trials" in body["layout"]["title"]["text"]
        else:
            assert 0 < count <= cap, (kind, count)
        assert len(json.dumps(body, allow_nan=False)) < 600_000, kind


def test_the_cap_keeps_the_best_trials_and_spreads_the_rest(big: ExperimentData) -> None:
    scored = sorted(big.trials, key=lambda t: t.metrics["accuracy"], reverse=True)
    best_ten = {t.number for t in scored[:10]}
    history = figure_json("history", big, max_points=500)["data"][0]
    assert best_ten <= set(history["x"])
    numbers = history["x"]
    assert numbers[0] < 100 and numbers[-1] > BIG_TRIALS - 100  # the sample spans the whole run
    line = figure_json("history", big)["data"][1]
    assert line["y"][-1] == pytest.approx(scored[0].metrics["accuracy"])  # best so far from every trial
    curves = figure_json("intermediate", big, max_points=400)
    names = {n for t in curves["data"] for n in t["text"] if n}
    assert scored[0].name in names
    assert drawn_points(curves) <= 400
    parallel = figure_json("parallel", big, max_points=200)["data"][0]
    assert max(parallel["dimensions"][0]["values"]) == pytest.approx(scored[0].metrics["accuracy"])


def test_the_pareto_front_is_never_sampled_away(big: ExperimentData) -> None:
    rows = [(t.name, t.metrics["accuracy"], t.metrics["loss"]) for t in big.trials]
    rows.sort(key=lambda r: (-r[1], r[2]))
    front, best_loss = [], float("inf")
    for name, _, loss in rows:  # maximise accuracy, minimise loss
        if loss < best_loss:
            front.append(name)
            best_loss = loss
    body = figure_json("pareto", big, max_points=50)
    drawn_front = next(t for t in body["data"] if t["name"].startswith("Pareto front"))
    assert sorted(drawn_front["text"]) == sorted(front)


def test_fanova_learns_from_a_capped_sample(big: ExperimentData) -> None:
    body = figure_json("importance", big, evaluator="fanova", max_points=5000)
    assert f"{FANOVA_TRIALS} trials" in body["layout"]["title"]["text"]
    bars = body["data"][0]
    assert sum(bars["x"]) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.postgres
def test_postgresql_and_sqlite_load_the_same_experiment(postgres_url: str, tmp_path: Any) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'same.db'}"
    for url in (postgres_url, sqlite_url):
        build_big(url, trials=300, name="same", started_every=1)
    on_pg = load_experiment_data(postgres_url, "same")
    on_sqlite = load_experiment_data(sqlite_url, "same")
    assert [(t.name, t.state, t.params, t.metrics, t.points) for t in on_pg.trials] == [
        (t.name, t.state, t.params, t.metrics, t.points) for t in on_sqlite.trials
    ]
    for kind in ("history", "parallel", "edf", "pareto"):
        pg_body, sqlite_body = figure_json(kind, on_pg), figure_json(kind, on_sqlite)
        assert pg_body["data"] == sqlite_body["data"], kind
    pg_curves = figure_json("intermediate", on_pg)
    assert pg_curves["data"] == figure_json("intermediate", on_sqlite)["data"]
    assert drawn_points(pg_curves) == MAX_CURVES * BIG_STEPS  # 100 of the 300 curves, each whole
