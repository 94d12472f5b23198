"""Flavors (sklearn via skops and joblib, python, onnx), the loader's digest check, log_model in a
function trial, URIs, and rendered Kubernetes manifests checked against the real API models."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest

from serving import flavors
from serving.loader import load_version
from serving.logged import save_to_store
from serving.registry import Registry
from serving.render import render
from serving.uris import parse_model_ref
from tests.serving.conftest import register
from tests.serving.models_for_tests import digits
from tuner.artifacts import open_artifact_store
from tuner.config import Settings
from tuner.errors import StoreValueError
from tuner.store import Store


def _load(store: Store, settings: Settings, name: str, number: int, cache: Path) -> Any:
    _model, version = Registry(store, actor="t").resolve(f"{name}/{number}")
    artifact = store.get_artifact(version.artifact_id)  # type: ignore[arg-type]
    return load_version(name, version, artifact, open_artifact_store(settings=settings), cache)


def test_sklearn_skops_joblib_file_and_fast_path_predict_the_same(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    model, x, _ = digits()
    assert register(store, settings, model, x[:5]) == 1  # joblib
    joblib.dump(model, tmp_path / "model.joblib")
    assert register(store, settings, tmp_path / "model.joblib", x[:5]) == 2
    skops = save_to_store(
        store, settings, model, "digits", flavor="sklearn", input_example=x[:5], serialization="skops"
    )
    assert Registry(store, actor="t").register("digits", skops.artifact)[0].version == 3
    expected = model.predict(x[1000:1100])
    for number in (1, 2, 3):
        loaded = _load(store, settings, "digits", number, tmp_path / "cache")
        assert loaded.predict(x[1000:1100]).tolist() == expected.tolist()
    assert flavors.fast_predict(model) is not None  # the numpy path is the one that answered


def test_onnx_flavor_runs_with_onnxruntime(store: Store, settings: Settings, tmp_path: Path) -> None:
    from skl2onnx import to_onnx

    model, x, _ = digits()
    proto = to_onnx(model, x[:1].astype(np.float32), options={"zipmap": False})
    logged = save_to_store(
        store, settings, proto, "onnx-digits", flavor="onnx", input_example=x[:4].astype(np.float32)
    )
    Registry(store, actor="t").register("onnx-digits", logged.artifact)
    loaded = _load(store, settings, "onnx-digits", 1, tmp_path / "cache")
    assert loaded.signature.inputs[0].datatype == "FP32"
    assert (
        np.asarray(loaded.predict(x[1000:1050].astype(np.float32))).tolist()
        == model.predict(x[1000:1050]).tolist()
    )


def test_a_changed_model_artifact_is_never_unpickled(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    model, x, _ = digits()
    register(store, settings, model, x[:5], flavor="python")
    _, version = Registry(store, actor="t").resolve("digits/1")
    artifact = store.get_artifact(version.artifact_id)  # type: ignore[arg-type]
    folder = Path(artifact.uri.removeprefix("file://"))
    (folder / "model.pkl").write_bytes(b"not the pickle that was logged")
    with pytest.raises(StoreValueError, match="changed after it was logged"):
        _load(store, settings, "digits", 1, tmp_path / "cache")


def _objective(params: dict[str, Any]) -> float:
    import tuner
    from tests.serving.models_for_tests import digits

    model, x, y = digits(float(params["c"]))
    tuner.log_model(model, name="fn-model", input_example=x[:2])  # type: ignore[attr-defined]
    return float(model.score(x[1000:1200], y[1000:1200]))


@pytest.mark.parametrize("threads", [False, True], ids=["worker-processes", "threads"])
def test_log_model_in_a_function_trial_links_the_model_to_its_trial(
    sqlite_url: str, store: Store, threads: bool
) -> None:
    import tuner

    result = tuner.tune(  # type: ignore[attr-defined]
        _objective,
        {"c": tuner.search.discrete([0.001, 1.0])},  # type: ignore[attr-defined]
        name="fn-exp",
        objective_metric_name="accuracy",
        objective_type="maximize",
        algorithm_name="grid",
        max_trial_count=2,
        parallel_trial_count=2 if threads else 1,
        threads=threads,
        store=sqlite_url,
        verbose=False,
    )
    assert result.best_trial is not None
    assert all(t.state.value == "Succeeded" for t in result.trials), result.trials
    done = Registry(store, actor="t").promote("fn-exp", alias="champion")
    assert done.model == "fn-model" and done.version == 1
    assert done.trial.name == result.best_trial.name
    version = store.get_model_version(store.get_registered_model("fn-model").id, 1)
    assert version.source_trial_id == done.trial.id
    assert version.metrics["accuracy"] == pytest.approx(result.best_value)


def test_model_uris() -> None:
    assert parse_model_ref("models:/m/3").version == 3
    assert parse_model_ref("m@champion").alias == "champion"
    with pytest.raises(StoreValueError, match="NAME@ALIAS"):
        parse_model_ref("models:/m@")


def _check(document: Any, klass: str, where: str, modules: list[Any]) -> None:
    """Walk `document` along the generated OpenAPI models: every key must be a field of its type."""
    if klass.startswith("list["):
        for i, item in enumerate(document):
            _check(item, klass[5:-1], f"{where}[{i}]", modules)
        return
    if klass.startswith("dict("):
        inner = klass[5:-1].split(", ", 1)[1]
        for key, item in document.items():
            _check(item, inner, f"{where}.{key}", modules)
        return
    cls = next((getattr(m, klass) for m in modules if hasattr(m, klass)), None)
    if cls is None:  # a primitive (str, int, object, ...)
        return
    assert isinstance(document, dict), f"{where} must be an object ({klass})"
    fields = {json_name: name for name, json_name in cls.attribute_map.items()}
    for key, value in document.items():
        assert key in fields, f"{where}.{key} is not a field of {klass}"
        _check(value, cls.openapi_types[fields[key]], f"{where}.{key}", modules)


@pytest.mark.parametrize("kind", ["kserve", "deployment"])
def test_rendered_manifests_fit_the_kubernetes_and_kserve_models(
    store: Store, settings: Settings, kind: str
) -> None:
    import kserve.models
    import kubernetes.client.models as k8s

    first, x, _ = digits()
    register(store, settings, first, x[:5])
    register(store, settings, digits(0.1)[0], x[:5])
    registry = Registry(store, actor="t")
    registry.set_alias("digits", "production", 1)
    registry.start_canary("digits", "production", 2, 10)
    documents = render(registry, "digits", "production", kind=kind, image="example/tuner:1")
    modules = [kserve.models, k8s]
    with pytest.raises(AssertionError, match="replicaz"):  # the check does refuse a wrong field
        _check({"spec": {"replicaz": 1}}, "V1Deployment", "Deployment", modules)
    for document in documents:
        klass = {
            "InferenceService": "V1beta1InferenceService",
            "Deployment": "V1Deployment",
            "Service": "V1Service",
        }[document["kind"]]
        _check(document, klass, document["kind"], modules)
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", document["metadata"]["name"])
    if kind == "kserve":
        predictor = documents[0]["spec"]["predictor"]
        assert predictor["canaryTrafficPercent"] == 10
        assert predictor["containers"][0]["args"][:3] == ["tuner", "serve", "digits/2"]
    else:
        deployments = [d for d in documents if d["kind"] == "Deployment"]
        assert {d["metadata"]["name"]: d["spec"]["replicas"] for d in deployments} == {
            "digits-production-v1": 9,
            "digits-production-v2": 1,
        }
        service = documents[-1]
        assert all(
            service["spec"]["selector"].items() <= d["spec"]["template"]["metadata"]["labels"].items()
            for d in deployments
        )
