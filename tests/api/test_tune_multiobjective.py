"""`tuner.tune(..., objectives=...)`: several objectives from Python end with the Pareto front in the result
(checked by brute force), in the stored status and in the Pareto figure."""

from __future__ import annotations

import math
from typing import Any

import pytest

import tuner
from tuner.errors import SpecError
from tuner.states import ExperimentState

SPACE = {"x": tuner.search.double(0.0, 1.0), "y": tuner.search.double(0.0, 1.0)}


def zdt1_like(params: dict[str, Any]) -> dict[str, float]:
    """Two conflicting metrics: `f1` to minimise, `gain` (a negated ZDT1 second objective) to maximise."""
    x, y = params["x"], params["y"]
    return {"f1": x, "gain": -(1 + 9 * y) * (1 - math.sqrt(x / (1 + 9 * y)))}


def brute_force_front(points: dict[str, tuple[float, float]]) -> set[str]:
    """Trials no other beats: f1 minimised, gain maximised."""

    def beats(a: tuple[float, float], b: tuple[float, float]) -> bool:
        return a[0] <= b[0] and a[1] >= b[1] and a != b

    return {n for n, p in points.items() if not any(beats(q, p) for q in points.values())}


@pytest.mark.parametrize("algorithm", ["motpe", "nsga3"])
def test_two_objectives_end_with_the_pareto_front(sqlite_url: str, algorithm: str) -> None:
    settings = {"random_state": 5, **({"population_size": 4} if algorithm == "nsga3" else {})}
    result = tuner.tune(
        zdt1_like,
        SPACE,
        objectives={"f1": "minimize", "gain": "maximize"},
        algorithm_name=algorithm,
        algorithm_settings=settings,
        max_trial_count=14,
        parallel_trial_count=2,
        threads=True,
        store=sqlite_url,
        verbose=False,
    )
    assert result.state == ExperimentState.SUCCEEDED and len(result.trials) == 14
    points = {t.name: (t.metrics["f1"], t.metrics["gain"]) for t in result.trials}
    expected = brute_force_front(points)
    assert {t.name for t in result.pareto_front} == expected
    assert len(expected) >= 2  # the two objectives conflict: no single trial wins both
    # the primary objective (the first) still names the best trial; its value is the front's best f1 (an
    # equal f1 with a better gain, e.g. a crossover child, may put another trial on the front instead)
    assert result.best_value == min(p[0] for p in points.values())
    assert result.best_value == min(t.metrics["f1"] for t in result.pareto_front)
    with tuner.Client(sqlite_url) as client:
        status = client.get_experiment(result.experiment)["status"]
    assert [e["trialName"] for e in status["paretoFront"]] == [t.name for t in result.pareto_front]


def test_the_pareto_figure_reads_the_objectives(sqlite_url: str) -> None:
    from tuner.visualization import plot_pareto_front

    result = tuner.tune(
        zdt1_like,
        SPACE,
        objectives={"f1": "minimize", "gain": "maximize"},
        algorithm_name="random",
        algorithm_settings={"random_state": 2},
        max_trial_count=10,
        threads=True,
        store=sqlite_url,
        verbose=False,
    )
    figure = plot_pareto_front(result)  # no metrics given: the first two objectives, each in its direction
    front = next(trace for trace in figure.data if trace.name.startswith("Pareto front"))
    assert set(front.text) == {t.name for t in result.pareto_front}
    assert figure.layout.xaxis.title.text.startswith("f1") and figure.layout.yaxis.title.text.startswith(
        "gain"
    )


def test_a_single_objective_algorithm_is_refused(sqlite_url: str) -> None:
    with pytest.raises(SpecError) as caught:
        tuner.tune(
            zdt1_like,
            SPACE,
            objectives={"f1": "minimize", "gain": "maximize"},
            algorithm_name="tpe",
            store=sqlite_url,
        )
    assert "spec.algorithm.algorithmName: 'tpe' optimises one objective" in str(caught.value)
