"""Results for analysis: `TuneResult.trials_dataframe()`, `metric_history`, the best trial's folder, and the
same through `tuner.Client`, on a real store with real function trials."""

from __future__ import annotations

from typing import Any

import pandas
import pytest

import tuner
from tuner.errors import NotFoundError

SPACE = {
    "lr": tuner.search.double(1e-3, 1e-1, log=True),
    "layers": tuner.search.int(1, 4),
    "optimizer": tuner.search.categorical(["sgd", "adam"]),
}


def objective(params: dict[str, Any]) -> dict[str, float]:
    score = params["layers"] + (0.5 if params["optimizer"] == "adam" else 0.0)
    for step in range(1, 4):
        tuner.report(step=step, score=score + step)  # peaks at the last step
    return {"score": score, "cost": params["lr"] * 10}


@pytest.fixture
def result(sqlite_url: str) -> tuner.TuneResult:
    return tuner.tune(
        objective,
        SPACE,
        name="analysis",
        objective_metric_name="score",
        additional_metric_names=["cost"],
        algorithm_name="random",
        algorithm_settings={"random_state": 3},
        max_trial_count=5,
        store=sqlite_url,
    )


def test_trials_dataframe_has_one_typed_row_per_trial(result: tuner.TuneResult) -> None:
    frame = result.trials_dataframe()
    assert isinstance(frame, pandas.DataFrame) and len(frame) == 5
    assert list(frame["number"]) == [0, 1, 2, 3, 4]
    assert set(frame["state"]) == {"Succeeded"}
    assert all(isinstance(v, float) for v in frame["params_lr"])
    assert all(isinstance(v, int) for v in frame["params_layers"])
    assert set(frame["params_optimizer"]) <= {"sgd", "adam"}
    # value = the objective by its strategy (max for a maximized metric), as the best trial was chosen
    by_name = frame.set_index("name")
    assert by_name.loc[result.best_trial.name, "value"] == result.best_value == frame["value"].max()  # type: ignore[union-attr]
    assert (frame["score_best"] == frame["value"]).all()
    assert (frame["score_final"] <= frame["score_best"]).all() and "cost_final" in frame
    assert str(frame["datetime_start"].dtype).startswith("datetime64") and (frame["duration"] >= 0).all()
    assert all(path for path in frame["folder"])


def test_metric_history_per_step(result: tuner.TuneResult) -> None:
    best = result.best_trial
    assert best is not None
    history = result.metric_history(best, "score")
    score = best.parameters["layers"] + (0.5 if best.parameters["optimizer"] == "adam" else 0.0)
    assert list(history["step"]) == [1, 2, 3, 4]  # three reports, then the returned value as the next step
    assert list(history["value"]) == [score + 1, score + 2, score + 3, score]
    assert str(history["timestamp"].dtype).startswith("datetime64")
    default = result.metric_history(best.name)  # the objective by default
    assert len(default) == len(history)


def test_the_best_trials_folder_is_reachable(result: tuner.TuneResult) -> None:
    best = result.best_trial
    assert best is not None and best.folder is not None
    assert (best.folder / "trial.log").exists()
    assert best.folder.name == best.name


def test_client_reads_the_same_and_takes_short_ids(result: tuner.TuneResult) -> None:
    best = result.best_trial
    assert best is not None
    with tuner.Client(store=result.store) as client:
        frame = client.trials_dataframe("analysis")
        assert list(frame["name"]) == [t.name for t in result.trials]
        suffix = best.name.rpartition("-")[2]
        assert client.get_trial(suffix)["metadata"]["name"] == best.name
        assert len(client.metric_history(suffix, "score")) >= 3
        with pytest.raises(NotFoundError, match="did you mean analysis"):
            client.get_experiment("analysys")
        with pytest.raises(NotFoundError, match="exists in namespace 'default'"):
            client.get_experiment("analysis", namespace="kubeflow")
