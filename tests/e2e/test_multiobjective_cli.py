"""Several objectives from a YAML file, as a user runs them: `tuner run` on the example (real trial processes,
a real store), its Pareto front checked by brute force, printed by `tuner run` and `tuner experiments show`,
and the same file refused under Katib's API group."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.e2e.conftest import ROOT, tuner
from tuner.store import open_store

EXAMPLE = ROOT / "examples" / "multiobjective"


def example(tmp_path: Path, **changes: Any) -> Path:
    """The example experiment with a small budget (and `changes` at the top level), next to its train.py."""
    document = yaml.safe_load((EXAMPLE / "experiment.yaml").read_text())
    document["spec"].update(maxTrialCount=6, parallelTrialCount=3)
    document["spec"]["algorithm"] = {
        "algorithmName": "nsga2",  # a population of 3: the sampler itself proposes the second generation
        "algorithmSettings": [
            {"name": "population_size", "value": "3"},
            {"name": "random_state", "value": "3"},
        ],
    }
    document.update(changes)
    folder = tmp_path / "example"
    folder.mkdir(exist_ok=True)
    (folder / "train.py").write_text((EXAMPLE / "train.py").read_text())
    path = folder / "experiment.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def brute_force_front(points: dict[str, tuple[float, float]]) -> set[str]:
    """Names whose (accuracy, leaves) no other point beats: accuracy maximised, leaves minimised."""

    def beats(a: tuple[float, float], b: tuple[float, float]) -> bool:
        return a[0] >= b[0] and a[1] <= b[1] and a != b

    return {name for name, p in points.items() if not any(beats(q, p) for q in points.values())}


def test_yaml_run_ends_with_the_pareto_front_shown(tmp_path: Path, env: dict[str, str]) -> None:
    run = tuner("run", str(example(tmp_path)), env=env)
    assert run.returncode == 0, run.stderr
    store = open_store(env["TUNER_STORE"])
    try:
        record = store.get_experiment("tree-size-vs-accuracy", "default")
        rows = store.compare_trials(record.id, metrics=["accuracy", "leaves"])
        points = {
            r.trial.name: (r.metrics["accuracy"].max, r.metrics["leaves"].min)
            for r in rows
            if r.metrics["accuracy"].max is not None and r.metrics["leaves"].min is not None
        }
        front = record.status["paretoFront"]
    finally:
        store.close()
    assert len(points) == 6
    expected = brute_force_front(points)  # type: ignore[arg-type]
    assert {entry["trialName"] for entry in front} == expected
    first = front[0]
    assert [m["name"] for m in first["observation"]["metrics"]] == ["accuracy", "leaves"]
    assert {p["name"] for p in first["parameterAssignments"]} == {
        "max_depth",
        "min_samples_leaf",
        "criterion",
    }
    assert f"Pareto front of accuracy (↑), leaves (↓): {len(expected)} trial" in run.stdout
    shown = tuner("experiments", "show", "tree-size-vs-accuracy", env=env)
    assert shown.returncode == 0, shown.stderr
    table = shown.stdout.split("Pareto front of accuracy (↑), leaves (↓)")[1]
    assert all(name in table for name in expected)
    assert not any(name in table for name in set(points) - expected)
    document = yaml.safe_load(
        tuner("experiments", "show", "tree-size-vs-accuracy", "-o", "yaml", env=env).stdout
    )
    assert document["status"]["paretoFront"] == front


def test_katib_group_refuses_several_objectives_in_one_line(tmp_path: Path, env: dict[str, str]) -> None:
    path = example(tmp_path, apiVersion="kubeflow.org/v1beta1")
    done = tuner("validate", str(path), env=env)  # `tuner run` checks through the same path
    assert done.returncode == 2, done.stderr
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert "spec.objective.objectives: several objectives (2 given)" in lines[0]
    assert "set apiVersion: tuner.dev/v1beta1" in lines[0]
