"""`tuner serve`'s HTTP surface on a real uvicorn server on loopback: V2 (with KServe's own client), V1,
versions, payload errors, metrics, and traffic changes under concurrent load with zero failed requests."""

from __future__ import annotations

import asyncio
import concurrent.futures

import httpx
import numpy as np
import pytest

from serving.canary import CanaryPolicy
from serving.registry import Registry
from serving.server import ServeOptions
from tests.serving.conftest import Load, register, serving, v2_body, wait_for
from tests.serving.models_for_tests import Broken, Slow, digits
from tuner.config import Settings
from tuner.store import Store


def _options(settings: Settings, *refs: str, **canary: float) -> ServeOptions:
    policy = CanaryPolicy(**{"min_requests": 20, "window": 50, **canary})  # type: ignore[arg-type]
    return ServeOptions(refs=refs, store_url=settings.store_url, poll_interval=0.05, canary=policy)


@pytest.fixture
def two_versions(store: Store, settings: Settings) -> tuple[np.ndarray, np.ndarray, list[object]]:
    first, x, y = digits(0.5)
    second, _, _ = digits(0.01)
    assert register(store, settings, first, x[:5]) == 1
    assert register(store, settings, second, x[:5]) == 2
    Registry(store, actor="test").set_alias("digits", "production", 1)
    return x, y, [first, second]


def test_kserve_rest_client_gets_the_models_prediction(
    store: Store, settings: Settings, two_versions: tuple[np.ndarray, np.ndarray, list[object]]
) -> None:
    from kserve import InferenceRESTClient, InferInput, InferRequest, RESTConfig

    x, _, models = two_versions
    with serving(_options(settings, "digits@production")) as (url, _):

        async def ask() -> tuple[bool, bool, list[int]]:
            client = InferenceRESTClient(RESTConfig(protocol="v2", retries=0))
            rows = x[700:704]
            request = InferRequest(
                model_name="digits",
                infer_inputs=[InferInput("input-0", list(rows.shape), "FP64", data=rows.ravel().tolist())],
            )
            ready = await client.is_server_ready(url)
            model_ready = await client.is_model_ready(url, "digits")
            response = await client.infer(url, request, model_name="digits")
            return ready, model_ready, list(response.outputs[0].data)

        # in a thread of its own: a Playwright session of the same xdist worker (tests/ui) keeps an event
        # loop running in the main thread, where asyncio.run refuses to start
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            ready, model_ready, predictions = pool.submit(asyncio.run, ask()).result()
    assert ready and model_ready
    assert predictions == models[0].predict(x[700:704]).tolist()  # type: ignore[attr-defined]


def test_v2_metadata_versions_v1_and_metrics(
    store: Store, settings: Settings, two_versions: tuple[np.ndarray, np.ndarray, list[object]]
) -> None:
    x, _, models = two_versions
    with serving(_options(settings, "digits@production")) as (url, _), httpx.Client(base_url=url) as http:
        assert http.get("/v2/health/live").json() == {"live": True}
        assert http.get("/v2/health/ready").status_code == 200
        meta = http.get("/v2/models/digits").json()
        assert meta["inputs"] == [{"name": "input-0", "datatype": "FP64", "shape": [-1, 64]}]
        assert meta["versions"] == ["1"]
        assert http.get("/v2/models/digits/versions/2/ready").json() == {"name": "digits", "ready": True}
        # the versions form reaches any version, by number or by alias
        by_number = http.post("/v2/models/digits/versions/2/infer", json=v2_body(x[800:803])).json()
        assert by_number["model_version"] == "2"
        assert by_number["outputs"][0]["data"] == models[1].predict(x[800:803]).tolist()  # type: ignore[attr-defined]
        by_alias = http.post("/v2/models/digits/versions/production/infer", json=v2_body(x[800:801])).json()
        assert by_alias["model_version"] == "1"
        v1 = http.post("/v1/models/digits:predict", json={"instances": x[800:802].tolist()})
        assert v1.json() == {"predictions": models[0].predict(x[800:802]).tolist()}  # type: ignore[attr-defined]
        assert http.get("/v2/models/digits/versions/9/ready").status_code == 404
        assert http.get("/v2/models/nothing/ready").status_code == 404
        metrics = http.get("/metrics").text
    assert 'tuner_serving_requests_total{code="200",model="digits",protocol="v2",version="2"} 1.0' in metrics
    assert 'tuner_serving_traffic_percent{alias="production",model="digits",version="1"} 100.0' in metrics


@pytest.mark.parametrize(
    ("tensor", "field", "fragment"),
    [
        (
            {"name": "input-0", "shape": [1, 3], "datatype": "FP64", "data": [1, 2, 3]},
            "inputs[0]",
            "shape [1, 3]",
        ),
        (
            {"name": "pixels", "shape": [1, 64], "datatype": "FP64", "data": [0] * 64},
            "inputs[0].name",
            "'input-0'",
        ),
        (
            {"name": "input-0", "shape": [1, 64], "datatype": "FP99", "data": [0] * 64},
            "inputs[0].datatype",
            "FP99",
        ),
        (
            {"name": "input-0", "shape": [2, 64], "datatype": "FP64", "data": [0] * 64},
            "inputs[0].data",
            "needs 128",
        ),
        (
            {"name": "input-0", "shape": [1, 64], "datatype": "BYTES", "data": ["a"] * 64},
            "inputs[0]",
            "BYTES",
        ),
    ],
)
def test_a_payload_that_does_not_fit_the_signature_gets_a_400_naming_the_field(
    store: Store,
    settings: Settings,
    two_versions: tuple[np.ndarray, np.ndarray, list[object]],
    tensor: dict[str, object],
    field: str,
    fragment: str,
) -> None:
    with serving(_options(settings, "digits@production")) as (url, _), httpx.Client(base_url=url) as http:
        response = http.post("/v2/models/digits/infer", json={"inputs": [tensor]})
        broken_json = http.post("/v2/models/digits/infer", content=b"{not json")
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert fragment in response.json()["error"]
    assert broken_json.status_code == 400 and "not valid JSON" in broken_json.json()["error"]


def test_moving_the_alias_under_load_swaps_versions_with_no_failed_request(
    store: Store, settings: Settings, two_versions: tuple[np.ndarray, np.ndarray, list[object]]
) -> None:
    x, _, _ = two_versions
    with serving(_options(settings, "digits@production")) as (url, _), Load(url, x[:32]) as load:
        wait_for(lambda: load.count("1") >= 50, "requests answered by v1")
        Registry(store, actor="test").set_alias("digits", "production", 2, reason="better")
        wait_for(lambda: load.count("2") >= 50, "requests answered by v2 after the alias moved")
    assert load.failures == []
    assert load.requests >= 100


def test_a_failing_canary_is_rolled_back_under_load_with_no_failed_request(
    store: Store, settings: Settings, two_versions: tuple[np.ndarray, np.ndarray, list[object]]
) -> None:
    x, _, _ = two_versions
    assert register(store, settings, Broken(), x[:5], flavor="python") == 3
    registry = Registry(store, actor="test")
    model = registry.model("digits")
    with serving(_options(settings, "digits@production")) as (url, server), Load(url, x[:32]) as load:
        wait_for(lambda: load.count("1") >= 20, "requests answered by v1")
        registry.start_canary("digits", "production", 3, 30, reason="try v3")
        events = wait_for(
            lambda: [e for e in store.registry_history(model.id) if e.kind == "rollback"],
            "the rollback event",
        )
        deployment = store.get_deployment("digits@production")
        wait_for(
            lambda: [t.percent for t in store.current_traffic(deployment.id)] == [100], "traffic back at 100%"
        )
        seen = load.count("1")
        wait_for(lambda: load.count("1") >= seen + 20, "requests after the rollback")
        metrics = httpx.get(f"{url}/metrics").text
    assert load.failures == []
    assert set(load.versions) == {"1"}  # every canary failure was answered by the stable version
    assert events[0].version == 1 and events[0].previous_version == 3
    assert "failed" in events[0].reason and "error rate >" in events[0].reason
    kinds = [e.kind for e in store.registry_history(model.id)]
    assert kinds[-2:] == ["canary_started", "rollback"]
    assert 'tuner_serving_rollbacks_total{alias="production",model="digits"} 1.0' in metrics
    assert server.aliases[("digits", "production")].routes.canary is None  # type: ignore[union-attr]


def test_a_slow_canary_is_rolled_back_on_its_p99(
    store: Store, settings: Settings, two_versions: tuple[np.ndarray, np.ndarray, list[object]]
) -> None:
    x, _, _ = two_versions
    assert register(store, settings, Slow(0.05), x[:5], flavor="python") == 3
    registry = Registry(store, actor="test")
    model = registry.model("digits")
    options = _options(settings, "digits@production", max_p99_ms=20.0)
    with serving(options) as (url, _), Load(url, x[:32], clients=4) as load:
        wait_for(lambda: load.count("1") >= 20, "requests answered by v1")
        registry.start_canary("digits", "production", 3, 50)
        events = wait_for(
            lambda: [e for e in store.registry_history(model.id) if e.kind == "rollback"],
            "the rollback event",
        )
    assert load.failures == []
    assert "p99" in events[0].reason
