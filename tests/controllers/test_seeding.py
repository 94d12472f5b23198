"""Without `random_state`, each experiment draws its own seed once, records it, and keeps it when resumed.

Katib's algorithms are random by default; ours are stateless functions of (space, settings, history), so
the controller chooses the seed once per experiment and passes it as `random_state` on every call.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import suggestions
from controllers.run import prepare
from controllers.suggest import SEED_ANNOTATION, in_process
from controllers.view import ExperimentView
from tuner.space import SearchSpace
from tuner.spec import Experiment, load_experiment
from tuner.store import Store, open_store

PARAMETERS = [
    {"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}},
    {"name": "y", "parameterType": "double", "feasibleSpace": {"min": "-5", "max": "5"}},
]


def experiment(name: str, algorithm: str, settings: dict[str, str] | None = None) -> Experiment:
    return load_experiment(
        {
            "apiVersion": "kubeflow.org/v1beta1",
            "kind": "Experiment",
            "metadata": {"name": name},
            "spec": {
                "objective": {"type": "minimize", "objectiveMetricName": "loss"},
                "algorithm": {
                    "algorithmName": algorithm,
                    "algorithmSettings": [{"name": k, "value": v} for k, v in (settings or {}).items()],
                },
                "maxTrialCount": 10,
                "parameters": PARAMETERS,
                "trialTemplate": {
                    "primaryContainerName": "main",
                    "trialParameters": [{"name": "x", "reference": "x"}, {"name": "y", "reference": "y"}],
                    "trialSpec": {
                        "apiVersion": "batch/v1",
                        "kind": "Job",
                        "spec": {
                            "template": {
                                "spec": {
                                    "containers": [
                                        {
                                            "name": "main",
                                            "command": [
                                                "echo",
                                                "${trialParameters.x}",
                                                "${trialParameters.y}",
                                            ],
                                        }
                                    ]
                                }
                            }
                        },
                    },
                },
            },
        }
    )


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    db = open_store(sqlite_url)
    yield db
    db.close()


def first_points(store: Store, exp: Experiment) -> list[dict[str, str]]:
    """The first suggestions the controller gets for `exp` (created or resumed in `store`)."""
    record = prepare(store, exp).record
    suggester = suggestions.get_suggester(exp.spec.algorithm_name or "")
    suggest = in_process(exp, suggester, SearchSpace.from_parameters(exp.spec.parameters or []))
    view = ExperimentView(store, record.id, "loss", "min", maximize=False)
    return [rendered for rendered, _, _ in suggest(view, 2)]


def recorded_seed(store: Store, name: str) -> str:
    return str(store.get_experiment(name, "default").spec["metadata"]["annotations"][SEED_ANNOTATION])


@pytest.mark.parametrize("algorithm", ["tpe", "sobol", "auto"])
def test_each_experiment_explores_its_own_points_and_can_be_replayed(store: Store, algorithm: str) -> None:
    one = first_points(store, experiment("one", algorithm))
    two = first_points(store, experiment("two", algorithm))
    assert one != two, "two experiments without random_state started at the same points"
    seed = recorded_seed(store, "one")
    assert seed.isdigit() and seed != recorded_seed(store, "two")
    # resumed: the recorded seed is kept, so the same history gives the same answer
    assert first_points(store, experiment("one", algorithm)) == one
    assert recorded_seed(store, "one") == seed
    # replayed: random_state set to the recorded seed gives the same run under another name
    assert first_points(store, experiment("replay", algorithm, {"random_state": seed})) == one


def test_an_explicit_random_state_is_used_and_nothing_is_recorded(store: Store) -> None:
    a = first_points(store, experiment("a", "sobol", {"random_state": "7"}))
    b = first_points(store, experiment("b", "sobol", {"random_state": "7"}))
    assert a == b
    assert SEED_ANNOTATION not in (
        store.get_experiment("a", "default").spec["metadata"].get("annotations") or {}
    )
