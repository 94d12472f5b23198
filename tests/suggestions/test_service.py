"""The HTTP suggestion service, driven over real loopback HTTP by its client and by raw requests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from suggestions import testing
from suggestions.client import RemoteSuggester, SuggestionClient
from suggestions.history import History, TrialRecord
from suggestions.registry import builtin_registry
from suggestions.service import create_app
from suggestions.settings import InvalidSettingsError
from tests.suggestions.conftest import LoopbackServer, free_port
from tuner.errors import SearchExhaustedError, SpecError, SuggestionError
from tuner.space import SearchSpace
from tuner.states import TrialState

REGISTRY = builtin_registry()

Serve = Callable[[FastAPI], LoopbackServer]


@pytest.fixture
def service(serve: Serve) -> LoopbackServer:
    return serve(create_app(REGISTRY))


def _suggest_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "algorithm": "random",
        "settings": [{"name": "random_state", "value": "1"}],
        "parameters": [{"name": "x", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "5"}}],
        "history": {"direction": "minimize", "trials": []},
        "count": 2,
    }
    return {**body, **changes}


@pytest.mark.parametrize("algorithm", REGISTRY.names())
def test_every_algorithm_round_trips_and_answers_as_in_process(
    service: LoopbackServer, algorithm: str
) -> None:
    suggester = REGISTRY.get(algorithm)
    profile = testing.profile_for(algorithm)
    space = testing.space_for(suggester, profile)
    settings = {**profile.settings, "random_state": "5"}
    history = testing.random_history(space, 11, seed=2)
    with SuggestionClient(service.url, timeout=60) as client:
        remote = RemoteSuggester(client, algorithm)
        assert remote.validate(settings, space) == []
        over_http = remote.suggest(space, settings, history, 2)
    assert over_http == suggester.suggest(space, settings, history, 2)
    assert all(space.contains(a) for a in over_http) and len(over_http) == 2


def test_used_up_grid_answers_exhausted(service: LoopbackServer) -> None:
    space = SearchSpace.from_dict(_suggest_body()["parameters"])
    with SuggestionClient(service.url) as client:
        points = client.suggest("grid", space, {}, History(), 5)
        history = testing.random_history(space, 0)
        history = replace(
            history,
            trials=tuple(TrialRecord(f"t{i}", a, TrialState.SUCCEEDED, 1.0) for i, a in enumerate(points)),
        )
        with pytest.raises(SearchExhaustedError):
            client.suggest("grid", space, {}, history, 1)
    raw = httpx.post(
        f"{service.url}/api/v1/suggest", json=_suggest_body(algorithm="grid", history=history.to_dict())
    )
    assert raw.status_code == 200 and raw.json() == {
        "algorithm": "grid",
        "assignments": [],
        "exhausted": True,
    }


def test_bad_bodies_get_problem_json_with_paths(service: LoopbackServer) -> None:
    url = f"{service.url}/api/v1/suggest"
    response = httpx.post(url, json={"algorithm": "random", "count": 0})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    paths = {p["path"] for p in response.json()["problems"]}
    assert paths == {"parameters", "count"}

    response = httpx.post(url, json=_suggest_body(algorithm="bayes"))
    assert response.status_code == 422 and response.json()["title"] == "Unknown algorithm"
    assert "did you mean 'bayesianoptimization'?" in response.json()["detail"]

    response = httpx.post(url, json=_suggest_body(algorithm="tpe", settings={"gamma": "3"}))
    assert response.status_code == 422
    assert response.json()["problems"] == [
        {"path": "algorithmSettings.gamma", "message": "must be a number in (0, 1) (got '3')"}
    ]

    history = {"trials": [{"name": "a", "assignment": {"x": "9"}, "state": "Succeeded", "value": 1.0}]}
    response = httpx.post(url, json=_suggest_body(history=history))
    assert response.status_code == 422
    assert response.json()["problems"] == [
        {"path": "history.trials[0].assignment.x", "message": "9 is not an allowed value of this parameter"}
    ]

    response = httpx.post(
        url,
        json=_suggest_body(
            parameters=[{"name": "x", "parameterType": "int", "feasibleSpace": {"min": "5", "max": "1"}}]
        ),
    )
    assert response.status_code == 422
    assert response.json()["problems"][0]["path"] == "parameters[0].feasibleSpace"


def test_client_raises_the_in_process_errors(service: LoopbackServer) -> None:
    space = SearchSpace.from_dict(_suggest_body()["parameters"])
    with SuggestionClient(service.url) as client:
        with pytest.raises(InvalidSettingsError) as info:
            client.suggest("tpe", space, {"gamma": "3"}, History(), 1)
        assert info.value.problems[0].path == "algorithmSettings.gamma"
        with pytest.raises(SuggestionError, match="unknown algorithm 'tpee'"):
            client.suggest("tpee", space, {}, History(), 1)
        problems = client.validate("grid", {}, space, max_trial_count=9)
        assert [p.path for p in problems] == ["maxTrialCount"]
        history = {"trials": [{"name": "a", "assignment": {"x": "1"}, "state": "Done"}]}
        with pytest.raises(SpecError, match=r"history\.trials\[0\]\.state"):
            client._post("/api/v1/suggest", _suggest_body(history=history))


def test_health_readiness_algorithms_and_metrics(service: LoopbackServer) -> None:
    assert httpx.get(f"{service.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{service.url}/readyz").json()
    assert ready["status"] == "ready" and "tpe" in ready["algorithms"]
    algorithms = {a["name"]: a for a in httpx.get(f"{service.url}/api/v1/algorithms").json()}
    assert {
        "name": "n_initial_points",
        "default": 10,
        "required": False,
        "doc": "random points before the model is used",
    } in algorithms["bayesianoptimization"]["settings"]
    httpx.post(f"{service.url}/api/v1/suggest", json=_suggest_body())
    httpx.post(f"{service.url}/api/v1/suggest", json=_suggest_body(algorithm="nope"))
    text = httpx.get(f"{service.url}/metrics").text
    assert 'tuner_suggestion_requests_total{algorithm="random",endpoint="suggest",outcome="ok"} 1.0' in text
    assert 'tuner_suggestion_latency_seconds_count{algorithm="random"} 1.0' in text
    assert 'tuner_suggestion_errors_total{algorithm="unknown",kind="unknown_algorithm"} 1.0' in text


def test_client_retries_unavailable_answers(serve: Serve) -> None:
    calls = {"n": 0}
    flaky = FastAPI()

    @flaky.post("/api/v1/suggest")
    def suggest() -> JSONResponse:
        calls["n"] += 1
        if calls["n"] < 3:
            return JSONResponse({"title": "busy"}, status_code=503)
        return JSONResponse({"algorithm": "random", "assignments": [{"x": "3"}], "exhausted": False})

    server = serve(flaky)
    space = SearchSpace.from_dict(_suggest_body()["parameters"])
    with SuggestionClient(server.url, retries=3, backoff=0.01) as client:
        assert client.suggest("random", space, {}, History(), 1) == [{"x": 3}]
    assert calls["n"] == 3


def test_client_gives_up_on_an_unreachable_service() -> None:
    space = SearchSpace.from_dict(_suggest_body()["parameters"])
    with SuggestionClient(f"http://127.0.0.1:{free_port()}", retries=2, backoff=0.01, timeout=2) as client:
        assert not client.healthy()
        with pytest.raises(SuggestionError, match="unreachable"):
            client.suggest("random", space, {}, History(), 1)
