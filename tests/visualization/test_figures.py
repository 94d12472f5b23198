"""Every figure on a real experiment: a `tuner.tune` run with 12 function trials in a SQLite store.

The expected numbers are computed here from the store itself (through `tuner.Client` and the store API),
never written in: point counts, the best-so-far line, the Pareto front by brute force, the learning curves
against `metric_series`.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

import tuner
from tests.visualization.conftest import SMALL_TRIALS
from tuner.store import open_store
from tuner.visualization import (
    FIGURE_KINDS,
    ExperimentData,
    figure,
    figure_json,
    load_experiment_data,
    plot_contour,
    plot_edf,
    plot_intermediate_values,
    plot_optimization_history,
    plot_parallel_coordinate,
    plot_param_importances,
    plot_pareto_front,
    plot_slice,
    plot_timeline,
)


@pytest.fixture(scope="module")
def data(small_store: str) -> ExperimentData:
    return load_experiment_data(small_store, "small")


@pytest.fixture(scope="module")
def frame(small_store: str) -> Any:
    with tuner.Client(small_store) as client:
        return client.trials_dataframe("small")


def _trace(body: dict[str, Any], name_prefix: str) -> dict[str, Any]:
    return next(t for t in body["data"] if str(t.get("name", "")).startswith(name_prefix))


def test_loaded_data_matches_the_store(data: ExperimentData, frame: Any) -> None:
    assert [t.name for t in data.trials] == list(frame["name"])
    assert data.objective.name == "score" and data.objective.maximize
    assert [m.name for m in data.metrics] == ["score", "cost"]
    assert data.metric("cost").goal == "minimize"  # its strategy is min: a metric to minimise
    lr = data.parameter("lr")
    assert lr.log and lr.type == "double" and data.parameter("optimizer").categorical
    for trial, (_, row) in zip(data.trials, frame.iterrows(), strict=True):
        assert trial.metrics["score"] == pytest.approx(row["score_best"])
        assert trial.params == {
            "lr": row["params_lr"],
            "layers": row["params_layers"],
            "optimizer": row["params_optimizer"],
        }
        assert trial.start is not None and trial.end is not None and trial.end >= trial.start


def test_every_kind_gives_json_safe_output(data: ExperimentData) -> None:
    for kind in FIGURE_KINDS:
        body = figure_json(kind, data)
        text = json.dumps(body, allow_nan=False)  # NaN or numpy left anywhere would raise here
        assert json.loads(text) == body
        assert body["data"], kind
        assert "small" in body["layout"]["title"]["text"]


def test_history_draws_every_trial_and_the_best_so_far(data: ExperimentData, frame: Any) -> None:
    body = figure_json("history", data)
    points, best = body["data"]
    assert len(points["x"]) == SMALL_TRIALS
    assert points["x"] == list(frame["number"])
    assert points["y"] == pytest.approx(list(frame["score_best"]))
    assert best["y"][-1] == pytest.approx(frame["score_best"].max())
    assert best["y"] == sorted(best["y"])  # maximising: the best so far never falls
    assert plot_optimization_history(data).to_plotly_json()["data"][0]["type"] == "scatter"


def test_parallel_coordinates_have_the_metric_and_each_parameter(data: ExperimentData, frame: Any) -> None:
    body = figure_json("parallel", data)
    dims = body["data"][0]["dimensions"]
    assert [d["label"] for d in dims] == ["score", "lr (log)", "layers", "optimizer"]
    assert all(len(d["values"]) == SMALL_TRIALS for d in dims)
    assert dims[1]["values"] == pytest.approx([math.log10(v) for v in frame["params_lr"]])
    assert dims[3]["ticktext"] == ["sgd", "adam", "rmsprop"]
    assert [dims[3]["ticktext"][int(i)] for i in dims[3]["values"]] == list(frame["params_optimizer"])
    only = figure_json("parallel", data, params=("layers",))
    assert [d["label"] for d in only["data"][0]["dimensions"]] == ["score", "layers"]
    assert plot_parallel_coordinate(data).data[0].type == "parcoords"


def test_slice_has_a_panel_per_parameter_with_log_axes_where_declared(data: ExperimentData) -> None:
    body = figure_json("slice", data)
    assert [t["name"] for t in body["data"]] == ["lr", "layers", "optimizer"]
    assert all(len(t["x"]) == SMALL_TRIALS for t in body["data"])
    layout = body["layout"]
    assert layout["xaxis"]["type"] == "log"  # lr is logUniform
    assert layout["xaxis2"]["type"] == "linear"
    assert layout["xaxis3"]["type"] == "category"
    forced = figure_json("slice", data, log_x=False)
    assert forced["layout"]["xaxis"]["type"] == "linear"
    assert len(plot_slice(data, params=["layers"]).data) == 1


def test_contour_of_a_pair(data: ExperimentData) -> None:
    body = figure_json("contour", data, params=("lr", "layers"))
    surface, points = body["data"]
    assert surface["type"] == "contour"
    assert len(surface["z"]) == len(surface["y"]) and len(surface["z"][0]) == len(surface["x"])
    values = [t.metrics["score"] for t in data.trials]
    flat = [v for row in surface["z"] for v in row if v is not None]
    # inverse-distance weighting never leaves the range of the data
    assert min(values) - 1e-9 <= min(flat) and max(flat) <= max(values) + 1e-9
    assert len(points["x"]) == SMALL_TRIALS
    assert body["layout"]["xaxis"]["type"] == "log" and body["layout"]["yaxis"]["type"] == "linear"
    categorical = figure_json("contour", data, params=("optimizer", "layers"))
    assert categorical["layout"]["xaxis"]["ticktext"] == ["sgd", "adam", "rmsprop"]
    assert plot_contour(data, params=("layers", "lr")).layout.yaxis.type == "log"


@pytest.mark.parametrize("evaluator", ["fanova", "ped-anova"])
def test_importance_with_both_evaluators(data: ExperimentData, evaluator: str) -> None:
    body = figure_json("importance", data, evaluator=evaluator)
    bars = body["data"][0]
    assert sorted(bars["y"]) == ["layers", "lr", "optimizer"]
    assert all(v >= 0 for v in bars["x"]) and sum(bars["x"]) == pytest.approx(1.0, abs=1e-6)
    assert bars["x"] == sorted(bars["x"])  # the most important parameter is drawn on top
    assert evaluator in body["layout"]["title"]["text"]
    fig = plot_param_importances(data, evaluator=evaluator, params=("lr", "layers"))
    assert sorted(fig.data[0].y) == ["layers", "lr"]


def test_edf_is_the_empirical_distribution(data: ExperimentData, frame: Any) -> None:
    curve = figure_json("edf", data)["data"][0]
    assert curve["x"] == pytest.approx(sorted(frame["score_best"]))
    assert curve["y"] == pytest.approx([(i + 1) / SMALL_TRIALS for i in range(SMALL_TRIALS)])
    assert plot_edf(data, metric="cost").data[0].x[0] == pytest.approx(frame["cost_best"].min())


def test_intermediate_values_are_the_metric_series(data: ExperimentData, small_store: str) -> None:
    body = figure_json("intermediate", data)
    store = open_store(small_store)
    try:
        experiment = store.get_experiment("small")
        expected = {t.name: store.metric_series(t.id, "score") for t in store.list_trials(experiment.id)}
    finally:
        store.close()
    drawn: dict[str, list[tuple[float, float]]] = {}
    for trace in body["data"]:
        for name, x, y in zip(trace["text"], trace["x"], trace["y"], strict=True):
            if name:
                drawn.setdefault(name, []).append((x, y))
    assert set(drawn) == set(expected)
    for name, points in drawn.items():
        assert points == [(float(p.step), pytest.approx(p.value)) for p in expected[name]]
    assert plot_intermediate_values(data).layout.xaxis.title.text == "step"


def test_pareto_front_of_two_metrics(data: ExperimentData) -> None:
    body = figure_json("pareto", data, metrics=("score", "cost"))
    front = _trace(body, "Pareto front")
    others = _trace(body, "trials")
    assert len(front["x"]) + len(others["x"]) == SMALL_TRIALS
    points = [(t.name, t.metrics["score"], t.metrics["cost"]) for t in data.trials]

    def dominated(s: float, c: float) -> bool:  # maximise score, minimise cost
        return any(s2 >= s and c2 <= c and (s2 > s or c2 < c) for _, s2, c2 in points)

    expected = sorted(name for name, s, c in points if not dominated(s, c))
    assert sorted(front["text"]) == expected
    flipped = plot_pareto_front(data, metrics=["cost", "score"])
    assert sorted(flipped.data[1].text) == expected


def test_timeline_draws_every_started_trial_by_state(data: ExperimentData) -> None:
    body = figure_json("timeline", data)
    assert sum(len(t["y"]) for t in body["data"]) == SMALL_TRIALS
    assert [t["name"] for t in body["data"]] == [f"Succeeded ({SMALL_TRIALS})"]
    bars = body["data"][0]
    durations = {t.number: (t.end - t.start).total_seconds() for t in data.trials if t.start and t.end}
    assert bars["customdata"] == pytest.approx([durations[n] for n in bars["y"]], abs=1e-3)
    span = max(t.end for t in data.trials if t.end) - min(t.start for t in data.trials if t.start)
    for width, seconds in zip(bars["x"], bars["customdata"], strict=True):  # ms; short trials widened
        least = max(span.total_seconds() * 1000 / 300, 1.0)  # 1/300 of the axis, never under 1 ms
        assert width == pytest.approx(max(seconds * 1000, least), rel=1e-6)
    assert body["layout"]["xaxis"]["type"] == "date"
    failed_only = figure_json("timeline", data, trial_states=("Failed",))
    assert failed_only["data"] == []
    assert len(plot_timeline(data).data) == 1


def test_figures_from_a_tune_result_and_from_a_client(small_store: str, data: ExperimentData) -> None:
    with tuner.Client(small_store) as client:
        via_client = load_experiment_data(client, "small")
    assert via_client.trials == data.trials
    store = open_store(small_store)
    try:
        via_store = load_experiment_data(store, "small")
        assert via_store.trials == data.trials
        assert len(figure("intermediate", via_store).data) == 1  # series read through the open store
    finally:
        store.close()


def test_html_repr_of_a_result_and_of_an_experiment(small_store: str, data: ExperimentData) -> None:
    result = tuner.tune(
        lambda p: p["x"] ** 2,
        {"x": tuner.search.double(-1.0, 1.0)},
        name="repr",
        objective_type="minimize",
        algorithm_name="random",
        max_trial_count=4,
        threads=True,
        store=small_store,
        verbose=False,
    )
    html = result._repr_html_()
    assert result.best_trial is not None
    assert result.best_trial.name in html and "<svg" in html and "<script" not in html
    assert html.count("<circle") == 4
    figure_of_result = plot_optimization_history(result)
    assert len(figure_of_result.data[0].x) == 4
    page = data._repr_html_()
    best = max(data.trials, key=lambda t: t.metrics["score"])
    assert best.name in page and f"{SMALL_TRIALS}: {SMALL_TRIALS} Succeeded" in page
