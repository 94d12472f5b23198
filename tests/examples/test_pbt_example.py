"""examples/pbt run small: the population improves over generations, and checkpoints follow the lineage.

Both ways a user runs it: `tuner.tune` with a Python objective (`tuner.checkpoint_dir()`), and `tuner run` on
the Katib-format file (real trial processes, Katib's `suggestion_trial_dir` meaning the trial's own folder),
the latter asking a real HTTP suggestion service on loopback, so pbt's lineage travels through it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from suggestions.pbt import GENERATION_LABEL, PARENT_LABEL
from suggestions.registry import builtin_registry
from suggestions.service import create_app
from tests.suggestions.conftest import LoopbackServer
from tuner.store import open_store

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pbt"
sys.path.insert(0, str(EXAMPLE))

import toy  # noqa: E402
import tune  # noqa: E402

STEPS = 20  # toy.train_generation's default: each generation adds this many steps to the checkpoint


def best_by_generation(trials: list[tuple[dict[str, str], float | None]]) -> dict[int, float]:
    best: dict[int, float] = {}
    for labels, value in trials:
        if value is not None:
            g = int(labels[GENERATION_LABEL])
            best[g] = min(best.get(g, float("inf")), value)
    return best


def test_tune_improves_the_population_and_each_member_resumes_its_parent() -> None:
    result = tune.run(n_population=5, n_generations=3, name="pbt-example", threads=True, verbose=False)
    assert len(result.trials) == 15 and all(t.value is not None for t in result.trials)
    best = tune.generations(result)
    assert sorted(best) == [0, 1, 2]
    assert best[2] < best[0], best
    by_name = {t.name: t for t in result.trials}
    for t in result.trials:
        g = int(t.labels[GENERATION_LABEL])
        state = json.loads((t.folder / "checkpoint" / toy.STATE).read_text())  # type: ignore[operator]
        assert state["steps"] == STEPS * (g + 1), "each generation continues its parent's model"
        if g > 0:
            parent = by_name[t.labels[PARENT_LABEL]]
            assert int(parent.labels[GENERATION_LABEL]) == g - 1


def test_katib_file_runs_with_tuner_run_through_the_suggestion_service(tmp_path: Path) -> None:
    folder = tmp_path / "pbt"
    folder.mkdir()
    shutil.copy(EXAMPLE / "toy.py", folder / "toy.py")
    document: dict[str, Any] = yaml.safe_load((EXAMPLE / "experiment.yaml").read_text())
    spec = document["spec"]
    spec["maxTrialCount"], spec["parallelTrialCount"] = 15, 5
    for setting in spec["algorithm"]["algorithmSettings"]:
        if setting["name"] == "n_population":
            setting["value"] = "5"
    (folder / "experiment.yaml").write_text(yaml.safe_dump(document))
    store_url = f"sqlite:///{tmp_path / 'tuner.db'}"
    service = LoopbackServer(create_app(builtin_registry())).start()
    try:
        done = subprocess.run(
            [
                *(sys.executable, "-m", "tuner.cli", "run", str(folder / "experiment.yaml"), "-q"),
                *("--store", store_url, "--suggestion-service", service.url),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "PYTHONPATH": str(EXAMPLE.parents[1])},
        )
    finally:
        service.stop()
    assert done.returncode == 0, done.stdout + done.stderr
    store = open_store(store_url)
    experiment = store.get_experiment("pbt-toy")
    trials = store.list_trials(experiment.id)
    assert len(trials) == 15
    runs = Path(os.environ["TUNER_HOME"])
    rows = []
    for t in trials:
        (folder_of_trial,) = [p.parent for p in runs.rglob(f"{t.name}/trial.log")]
        state = json.loads((folder_of_trial / "checkpoint" / toy.STATE).read_text())
        assert state["steps"] == STEPS * (int(t.labels[GENERATION_LABEL]) + 1)
        rows.append((t.labels, store.metric_summaries(t.id)["loss"].latest))
    best = best_by_generation(rows)
    assert sorted(best) == [0, 1, 2] and best[2] < best[0], best


@pytest.mark.parametrize("lr", [0.01, 0.2])
def test_toy_trains_from_its_checkpoint(tmp_path: Path, lr: float) -> None:
    first = toy.train_generation(lr, tmp_path)
    second = toy.train_generation(lr, tmp_path)
    assert json.loads((tmp_path / toy.STATE).read_text())["steps"] == 2 * STEPS
    assert (second < first) == (lr < 2 / max(toy.CURVATURES))  # a rate past 2/60 diverges
