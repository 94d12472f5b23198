"""The registry's rules on a real store: promotion by the experiment's objective and metric strategy, a
canary that leaves the alias in place until promoted, refusals that say what to do."""

from __future__ import annotations

import pytest

from serving.logged import save_to_store
from serving.registry import Registry
from tests.serving.models_for_tests import digits
from tuner.config import Settings
from tuner.errors import StoreValueError
from tuner.states import TrialState
from tuner.store import Store
from tuner.store.records import Assignment


def _experiment(store: Store, settings: Settings, strategy: str) -> list[int]:
    objective = {
        "type": "minimize",
        "objectiveMetricName": "loss",
        "metricStrategies": [{"name": "loss", "value": strategy}],
    }
    experiment = store.create_experiment("exp", {"spec": {"objective": objective}}, "sha256:x")
    trials = []
    for number, c in enumerate((0.01, 1.0)):
        trial = store.create_trial(experiment.id, f"t{number}", [Assignment("c", str(c), c)])
        store.transition_trial(trial.id, TrialState.RUNNING)
        model, x, _ = digits(c)
        save_to_store(store, settings, model, "m", flavor="sklearn", input_example=x[:2], trial_id=trial.id)
        store.transition_trial(trial.id, TrialState.SUCCEEDED)
        trials.append(trial.id)
    return trials


def test_promote_follows_the_metric_strategy_and_a_canary_keeps_the_alias(
    store: Store, settings: Settings
) -> None:
    first, second = _experiment(store, settings, "min")
    store.log_metric(first, "loss", 0.5)
    store.log_metric(first, "loss", 0.9)  # min strategy: t0 counts 0.5
    store.log_metric(second, "loss", 0.7)
    registry = Registry(store, actor="alice@host")
    with pytest.raises(StoreValueError, match="promote without --canary first"):
        registry.promote("exp", alias="production", canary=10)
    done = registry.promote("exp", alias="production")
    assert (done.model, done.version, done.trial.id, done.value) == ("m", 1, first, 0.5)

    store.log_metric(second, "loss", 0.1)  # now t1 is best
    canary = registry.promote("exp", alias="production", canary=20)
    assert (canary.version, canary.previous_version, canary.canary_percent) == (2, 1, 20)
    assert store.list_aliases(store.get_registered_model("m").id) == {"production": 1}  # not moved yet
    _, routes = registry.routes("m", "production")
    assert sorted((r.version.version, r.percent, r.tag) for r in routes) == [
        (1, 80, "stable"),
        (2, 20, "canary"),
    ]

    finished = registry.promote("exp", alias="production")
    assert (finished.version, finished.previous_version) == (2, 1)
    _, routes = registry.routes("m", "production")
    assert [(r.version.version, r.percent) for r in routes] == [(2, 100)]
    history = store.registry_history(store.get_registered_model("m").id)
    assert [(e.kind, e.version, e.previous_version) for e in history] == [
        ("version_created", 1, None),
        ("alias_set", 1, None),
        ("version_created", 2, None),
        ("canary_started", 2, 1),
        ("alias_set", 2, 1),
    ]
    assert {e.actor for e in history} == {"alice@host"}
    version = store.get_model_version(store.get_registered_model("m").id, 2)
    assert version.source_trial_id == second and version.metrics == {"loss": 0.1}


def test_a_model_name_that_cannot_go_in_a_uri_is_refused(store: Store, settings: Settings) -> None:
    first, _ = _experiment(store, settings, "latest")
    store.log_metric(first, "loss", 0.5)
    with pytest.raises(StoreValueError, match="model name 'my model'"):
        Registry(store, actor="t").promote("exp", model_name="my model")


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_events_and_deleting_a_served_model_on_both_backends(
    backend: str, request: pytest.FixtureRequest
) -> None:
    from tuner.errors import NotFoundError
    from tuner.store import open_store

    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "postgres_url")
    db = open_store(url)
    try:
        model = db.create_registered_model("m")
        version = db.create_model_version(model.id, signature={"flavor": "python"})
        db.set_alias(model.id, "production", version.version)
        deployment = db.create_deployment("m@production", model_id=model.id)
        revision = db.create_revision(deployment.id, version.id)
        db.set_traffic(deployment.id, {revision.id: 100})
        db.set_last_good_revision(deployment.id, revision.id)
        event = db.record_registry_event(model.id, "rollback", alias="production", version=1, reason="why")
        assert (event.kind, event.reason) == ("rollback", "why")
        assert [e.kind for e in db.registry_history(model.id)][-1] == "rollback"
        db.delete_registered_model(model.id)
        with pytest.raises(NotFoundError):
            db.get_registered_model("m")
        with pytest.raises(NotFoundError):
            db.get_deployment("m@production")
        with pytest.raises(NotFoundError):
            db.delete_registered_model(model.id)
    finally:
        db.close()
