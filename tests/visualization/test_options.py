"""Figure options: descriptions, parsing from query strings, and errors that name the option, value and fix."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tuner.visualization import (
    FIGURE_KINDS,
    ExperimentData,
    FigureOptionError,
    figure,
    figure_json,
    load_experiment_data,
    options_of,
    parse_options,
)
from tuner.visualization.data import MetricInfo, ParameterInfo, TrialData

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def data(small_store: str) -> ExperimentData:
    return load_experiment_data(small_store, "small")


def test_every_kind_lists_its_options_with_a_description() -> None:
    assert FIGURE_KINDS == (
        "history",
        "parallel",
        "slice",
        "contour",
        "importance",
        "edf",
        "intermediate",
        "pareto",
        "timeline",
    )
    for kind in FIGURE_KINDS:
        options = options_of(kind)
        assert "max_points" in options and "trial_states" in options
        assert all(isinstance(text, str) and text for text in options.values())
    assert "evaluator" in options_of("importance") and "metrics" in options_of("pareto")
    assert {"log_x", "log_y"} <= set(options_of("slice"))


def test_query_strings_become_typed_options() -> None:
    assert parse_options("slice", {"params": "lr, layers", "log_x": "false", "log_y": "auto"}) == {
        "params": ("lr", "layers"),
        "log_x": False,
        "log_y": None,
    }
    assert parse_options("history", {"max_points": "500", "trial_states": "succeeded,Failed"}) == {
        "max_points": 500,
        "trial_states": ("Succeeded", "Failed"),
    }
    assert parse_options("importance", {"evaluator": "PED_ANOVA", "metric": ""}) == {"evaluator": "ped-anova"}
    assert parse_options("pareto", {"metrics": "score,cost"}) == {"metrics": ("score", "cost")}


@pytest.mark.parametrize(
    ("kind", "raw", "words"),
    [
        ("history", {"colour": "red"}, ["colour", "history", "max_points"]),
        ("history", {"max_points": "lots"}, ["max_points", "'lots'", "2000"]),
        ("history", {"max_points": "3"}, ["max_points=3", "10 or more"]),
        ("slice", {"log_x": "maybe"}, ["log_x", "'maybe'", "true, false or auto"]),
        ("timeline", {"trial_states": "Done"}, ["trial_states", "'Done'", "Succeeded"]),
        ("importance", {"evaluator": "shap"}, ["evaluator", "'shap'", "fanova or ped-anova"]),
        ("contour", {"params": "lr"}, ["params", "'lr'", "exactly two"]),
        ("pareto", {"metrics": "a,a"}, ["metrics", "exactly two different"]),
        ("histogram", {}, ["histogram", "history"]),
    ],
)
def test_bad_options_name_the_option_the_value_and_the_fix(
    kind: str, raw: dict[str, str], words: list[str]
) -> None:
    with pytest.raises(FigureOptionError) as caught:
        parse_options(kind, raw)
    for word in words:
        assert word in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_options_that_do_not_fit_the_experiment(data: ExperimentData) -> None:
    with pytest.raises(FigureOptionError, match=r"metric='accuracy'.*give one of score, cost"):
        figure("history", data, metric="accuracy")
    with pytest.raises(FigureOptionError, match=r"params names 'depth'.*give some of lr, layers, optimizer"):
        figure("slice", data, params=("depth",))
    with pytest.raises(FigureOptionError, match=r"no option 'evaluator'"):
        figure("history", data, evaluator="fanova")
    with pytest.raises(FigureOptionError, match=r"max_points=True is not a whole number"):
        figure("edf", data, max_points=True)


def _one_metric_one_parameter() -> ExperimentData:
    trials = tuple(
        TrialData(i, f"t{i}", "Succeeded", {"x": float(i)}, {"loss": float(i * i)}, {"loss": 1})
        for i in range(5)
    )
    return ExperimentData(
        "tiny",
        "default",
        "Succeeded",
        MetricInfo("loss", "minimize", "min"),
        (MetricInfo("loss", "minimize", "min"),),
        (ParameterInfo("x", "double", 0.0, 4.0),),
        trials,
    )


def test_figures_that_need_more_than_the_experiment_has() -> None:
    tiny = _one_metric_one_parameter()
    with pytest.raises(FigureOptionError, match=r"needs two metrics.*additionalMetricNames"):
        figure("pareto", tiny)
    with pytest.raises(FigureOptionError, match=r"needs two parameters.*slice"):
        figure("contour", tiny)
    with pytest.raises(FigureOptionError, match="2 or more trials"):
        figure("importance", tiny, trial_states=("Failed",))
    assert len(figure("history", tiny).data[0].x) == 5  # a hand-built ExperimentData draws too


def test_load_refuses_what_it_cannot_read(small_store: str) -> None:
    with pytest.raises(TypeError, match=r"Store, a store URL or a tuner\.Client"):
        load_experiment_data(42, "small")
    with pytest.raises(ValueError, match="max_series_points=1"):
        load_experiment_data(small_store, "small", max_series_points=1)
    from tuner.errors import NotFoundError

    with pytest.raises(NotFoundError):
        load_experiment_data(small_store, "no-such-experiment")


def test_import_tuner_and_the_package_leave_plotly_unloaded() -> None:
    code = (
        "import sys, tuner, tuner.visualization; "
        "print(sorted(m for m in ('plotly', 'optuna', 'scipy', 'pandas') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]"


def test_an_experiment_without_trials_draws_empty_figures() -> None:
    empty = _one_metric_one_parameter()
    empty = ExperimentData(
        "empty",
        "default",
        "Created",
        empty.objective,
        (*empty.metrics, MetricInfo("cost", "minimize", "min")),
        (*empty.parameters, ParameterInfo("c", "categorical", choices=("a", "b"))),
        (),
    )
    for kind in FIGURE_KINDS:
        if kind == "importance":
            with pytest.raises(FigureOptionError, match="has 0"):
                figure(kind, empty)
            continue
        body = figure_json(kind, empty)
        points = sum(len(t.get("x") or ()) for t in body["data"] if t["type"] != "contour")
        assert points == 0, kind
