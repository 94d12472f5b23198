"""How each kind of model is written to a folder and read back as something with `predict(batch)`.

Flavors:
    sklearn  a scikit-learn estimator or pipeline, as joblib (default) or, with serialization="skops",
             in skops's format (which refuses unknown types on load; importing skops imports all of
             scikit-learn, seconds per trial, hence not the default)
    python   any object with `predict(batch)`, pickled with cloudpickle (so classes defined in a trial's
             `__main__` travel with it); only ever loaded from a registry-owned artifact (see loader)
    onnx     an ONNX model (a `.onnx` file or an `onnx.ModelProto`), run with onnxruntime

The folder holds the model file and `tuner-model.json` (flavor, file, serialization, signature, input
example, library versions), so the folder alone says how to load it.
"""

from __future__ import annotations

import importlib.metadata
import json
import platform
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

META_FILE = "tuner-model.json"
FLAVORS = ("sklearn", "python", "onnx")

Predict = Callable[[np.ndarray], Any]


class FlavorError(ValueError):
    """A model cannot be saved or loaded in the flavor asked for (the message says what to do)."""


def detect_flavor(model: Any) -> str:
    """The flavor of an in-memory model or a model file path."""
    if isinstance(model, (str, Path)):
        suffix = Path(model).suffix.lower()
        if suffix == ".onnx":
            return "onnx"
        raise FlavorError(
            f"cannot tell the flavor of the file {model}: pass flavor='sklearn' (joblib/skops file), "
            "'python' (a pickle of an object with predict) or 'onnx'"
        )
    module = type(model).__module__ or ""
    if module.startswith("sklearn.") or _is_sklearn_estimator(model):
        return "sklearn"
    if module.startswith("onnx") and hasattr(model, "SerializeToString"):
        return "onnx"
    if callable(getattr(model, "predict", None)):
        return "python"
    raise FlavorError(
        f"cannot log a {type(model).__name__}: it is not a scikit-learn estimator, an ONNX model, "
        "or an object with a predict(batch) method"
    )


def _is_sklearn_estimator(model: Any) -> bool:
    try:
        from sklearn.base import BaseEstimator
    except ImportError:  # pragma: no cover - scikit-learn is a dependency
        return False
    return isinstance(model, BaseEstimator)


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _has(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def save(model: Any, flavor: str, folder: Path, serialization: str | None = None) -> dict[str, Any]:
    """Write `model` (an object or a file path) into `folder`; return the metadata describing it."""
    if serialization not in (None, "joblib", "skops") or (serialization and flavor != "sklearn"):
        raise FlavorError(
            f"serialization {serialization!r} is not available for flavor {flavor!r}: "
            "sklearn models take 'joblib' (default) or 'skops'"
        )
    if flavor not in FLAVORS:
        raise FlavorError(f"flavor {flavor!r} is not one of {', '.join(FLAVORS)}")
    folder.mkdir(parents=True, exist_ok=True)
    libraries: dict[str, str | None] = {}
    if isinstance(model, (str, Path)):
        source = Path(model)
        if not source.is_file():
            raise FlavorError(f"there is no model file at {source}")
        serialization = {"onnx": "onnx", "sklearn": "joblib", "python": "pickle"}[flavor]
        if flavor == "sklearn" and source.suffix == ".skops":
            serialization = "skops"
        file_name = f"model{source.suffix or '.bin'}"
        shutil.copyfile(source, folder / file_name)
    elif flavor == "sklearn":
        libraries["scikit-learn"] = _version("scikit-learn")
        if serialization == "skops":
            if not _has("skops.io"):
                raise FlavorError("serialization='skops' needs skops: pip install skops")
            import skops.io

            file_name, serialization = "model.skops", "skops"
            skops.io.dump(model, folder / file_name)
        else:
            import joblib

            file_name, serialization = "model.joblib", "joblib"
            joblib.dump(model, folder / file_name)
    elif flavor == "python":
        if not callable(getattr(model, "predict", None)):
            raise FlavorError(
                f"a 'python' model needs a predict(batch) method; {type(model).__name__} has none"
            )
        import cloudpickle

        file_name, serialization = "model.pkl", "cloudpickle"
        libraries["cloudpickle"] = _version("cloudpickle")
        (folder / file_name).write_bytes(cloudpickle.dumps(model))
    else:
        if not hasattr(model, "SerializeToString"):
            raise FlavorError("an 'onnx' model must be an onnx.ModelProto or a path to a .onnx file")
        file_name, serialization = "model.onnx", "onnx"
        (folder / file_name).write_bytes(model.SerializeToString())
    if flavor == "onnx":
        libraries["onnx"] = _version("onnx")
    return {
        "format": 1,
        "flavor": flavor,
        "file": file_name,
        "serialization": serialization,
        "python": platform.python_version(),
        "libraries": {k: v for k, v in libraries.items() if v},
    }


def write_meta(folder: Path, meta: dict[str, Any]) -> None:
    (folder / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True), encoding="utf-8")


def read_meta(folder: Path) -> dict[str, Any]:
    path = folder / META_FILE
    if not path.is_file():
        raise FlavorError(f"{folder} is not a logged model: it has no {META_FILE}")
    return dict(json.loads(path.read_text(encoding="utf-8")))


def load(folder: Path, meta: dict[str, Any] | None = None) -> Predict:
    """The predict function of the model saved in `folder` (whose digest the caller has checked)."""
    meta = meta or read_meta(folder)
    flavor, path, serialization = meta["flavor"], folder / meta["file"], meta.get("serialization")
    if flavor == "onnx":
        return _onnx_predict(path)
    if serialization == "skops":
        import skops.io

        model = skops.io.load(path, trusted=skops.io.get_untrusted_types(file=path))
    elif serialization == "joblib":
        import joblib

        model = joblib.load(path)
    elif serialization in ("cloudpickle", "pickle"):
        import cloudpickle

        model = cloudpickle.loads(path.read_bytes())
    else:
        raise FlavorError(f"unknown serialization {serialization!r} in {folder / META_FILE}")
    predict = getattr(model, "predict", None)
    if not callable(predict):
        raise FlavorError(f"the model in {folder} has no predict method")
    return fast_predict(model) or predict


def fast_predict(model: Any) -> Predict | None:
    """A numpy-only predict for fitted linear classifiers (alone or after a StandardScaler).

    scikit-learn's own `predict` re-validates its input on every call, which costs more than the
    arithmetic for a single row; the server has already checked dtype and shape against the signature.
    The result is identical (same formulas: standardise, decision function, argmax / threshold).
    """
    try:
        from sklearn.linear_model._base import LinearClassifierMixin
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler
    except ImportError:  # pragma: no cover
        return None
    steps = list(model.steps) if isinstance(model, Pipeline) else [(None, model)]
    *pre, (_, last) = steps
    if not isinstance(last, LinearClassifierMixin) or not hasattr(last, "coef_"):
        return None
    if any(not isinstance(step, StandardScaler) for _, step in pre):
        return None
    scalers = [
        (step.mean_ if step.with_mean else None, step.scale_ if step.with_std else None) for _, step in pre
    ]
    coef = np.ascontiguousarray(last.coef_.T)
    intercept = last.intercept_
    classes = last.classes_

    def predict(batch: np.ndarray) -> np.ndarray:
        x = batch
        for mean, scale in scalers:
            x = x - mean if mean is not None else x
            x = x / scale if scale is not None else x
        scores = x @ coef + intercept
        if scores.shape[1] == 1:
            return classes[(scores[:, 0] > 0).astype(np.intp)]
        return classes[scores.argmax(axis=1)]

    return predict


def _onnx_predict(path: Path) -> Predict:
    try:
        import onnxruntime
    except ImportError:
        raise FlavorError("serving an ONNX model needs onnxruntime: pip install onnxruntime") from None
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    inputs = session.get_inputs()
    name = inputs[0].name
    element = inputs[0].type  # e.g. "tensor(float)"
    dtype = np.float32 if element == "tensor(float)" else np.float64 if element == "tensor(double)" else None

    def predict(batch: np.ndarray) -> Any:
        feed = batch.astype(dtype, copy=False) if dtype is not None else batch
        return session.run(None, {name: feed})[0]

    return predict
