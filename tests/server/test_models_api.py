"""The model registry over the REST API (`/api/v1/models/{namespace}`), against a real server process.

Two trials each logged a model into the store the server uses; the API lists and shows them, promotes the
best one by the experiment's metric strategy, moves and removes aliases (recorded in the history with the
server's actor), answers 404/422 as problem+json, and deletes the model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from serving.logged import save_to_store
from tests.server.conftest import ServerProcess
from tests.serving.models_for_tests import digits
from tuner.config import Settings
from tuner.states import TrialState
from tuner.store import open_store
from tuner.store.records import Assignment

PROBLEM = "application/problem+json"


def _two_trials_with_models(store_url: str, home: Path) -> None:
    settings = Settings.from_env({"TUNER_HOME": str(home)}, store_url=store_url)
    store = open_store(store_url)
    try:
        objective = {"type": "minimize", "objectiveMetricName": "loss"}
        experiment = store.create_experiment("exp", {"spec": {"objective": objective}}, "sha256:x")
        for number, (c, loss) in enumerate(((0.01, 0.9), (1.0, 0.2))):
            trial = store.create_trial(experiment.id, f"t{number}", [Assignment("c", str(c), c)])
            store.transition_trial(trial.id, TrialState.RUNNING)
            model, x, _ = digits(c)
            save_to_store(
                store, settings, model, "m", flavor="sklearn", input_example=x[:2], trial_id=trial.id
            )
            store.log_metric(trial.id, "loss", loss)
            store.transition_trial(trial.id, TrialState.SUCCEEDED)
    finally:
        store.close()


def _json(reply: httpx.Response, status: int = 200) -> Any:
    assert reply.status_code == status, reply.text
    return reply.json()


def test_registry_endpoints_promote_alias_history_and_delete(tmp_path: Path, server_factory: Any) -> None:
    store_url = f"sqlite:///{tmp_path / 'models.db'}"
    _two_trials_with_models(store_url, tmp_path / "artifacts-home")
    server: ServerProcess = server_factory(store_url)
    base = f"{server.url}/api/v1/models/default"

    assert _json(httpx.get(base)) == {"models": []}
    done = _json(httpx.post(base, json={"experiment": "exp", "alias": "production"}))
    assert (done["model"], done["version"], done["trial"], done["value"]) == ("m", 1, "t1", 0.2)

    shown = _json(httpx.get(f"{base}/m"))
    assert shown["uri"] == "models:/m/1" and shown["aliases"] == {"production": 1}
    assert shown["source"]["trial"] == "t1" and shown["flavor"] == "sklearn"
    assert [e["actor"] for e in shown["history"]] == ["tuner-server"] * len(shown["history"])
    assert _json(httpx.get(base))["models"] == [{"name": "m", "versions": 1, "aliases": {"production": 1}}]
    assert [v["version"] for v in _json(httpx.get(f"{base}/m/versions"))["versions"]] == [1]
    assert _json(httpx.get(f"{base}/m/versions/1"))["metrics"] == {"loss": 0.2}

    moved = _json(httpx.put(f"{base}/m/aliases/champion", json={"version": 1, "reason": "best so far"}))
    assert moved == {"alias": "champion", "version": 1, "previousVersion": None}
    history = _json(httpx.get(f"{base}/m"))["history"]
    assert any(e["alias"] == "champion" and e["reason"] == "best so far" for e in history)
    assert _json(httpx.delete(f"{base}/m/aliases/champion"))["previousVersion"] == 1

    missing = httpx.get(f"{base}/nosuch")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith(PROBLEM)
    wrong = httpx.put(f"{base}/m/aliases/x", json={"version": 0})
    assert wrong.status_code == 422 and wrong.headers["content-type"].startswith(PROBLEM)
    no_experiment = httpx.post(base, json={"experiment": "nosuch"})
    assert no_experiment.status_code == 404 and no_experiment.headers["content-type"].startswith(PROBLEM)

    assert _json(httpx.delete(f"{base}/m")) == {"deleted": "m"}
    assert _json(httpx.get(base)) == {"models": []}
