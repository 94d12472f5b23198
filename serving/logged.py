"""`tuner.log_model(...)`: keep a trial's model as an output artifact of that trial.

The trial is found the way `tuner.report` finds it, through the environment tuner gives every trial:
`TUNER_EXPERIMENT`, `TUNER_NAMESPACE`, `TUNER_TRIAL_NAME` (Katib's `KATIB_TRIAL_NAME` too) and
`TUNER_STORE` (default: the embedded store). That covers process trials (`tuner run`) and function
trials of `tuner.tune`, in worker processes or in threads (`tuner.reporting.trial_environ`). The model folder goes to the artifact store
(content-addressed, so it can never change later), the store records it as an artifact of type `model`
with its flavor, signature and input example, and an OUTPUT event links it to the trial (lineage).
`tuner models promote` later registers the best trial's model as a version.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from serving import flavors
from serving.signature import Signature, as_batch, example_rows, infer_signature
from tuner import reporting
from tuner.artifacts import open_artifact_store
from tuner.config import Settings
from tuner.store import Store, open_store
from tuner.store.records import Artifact, Direction

MODEL_TYPE = "model"
MODEL_TYPES = (MODEL_TYPE, "Model", "system.Model")  # log_model's, and a pipeline task's Output[Model]


@dataclass(frozen=True)
class LoggedModel:
    """What `log_model` stored: the artifact (URI, digest), the trial it belongs to and the signature."""

    name: str
    artifact: Artifact
    trial_id: int
    flavor: str
    signature: Signature | None


@dataclass(frozen=True)
class TrialContext:
    """Where the running trial lives: the store URL, the experiment and the trial's name."""

    store_url: str
    namespace: str
    experiment: str
    trial: str

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> TrialContext:
        env = reporting.trial_environ() if environ is None else dict(environ)
        trial = env.get("TUNER_TRIAL_NAME") or env.get("KATIB_TRIAL_NAME")
        experiment = env.get("TUNER_EXPERIMENT")
        if not trial or not experiment:
            raise RuntimeError(
                "tuner.log_model() was called outside a trial: run this code as a trial of `tuner run` or "
                "`tuner.tune` (it needs TUNER_EXPERIMENT and TUNER_TRIAL_NAME, which tuner sets)"
            )
        settings = Settings.from_env(env)
        return cls(settings.store_url, env.get("TUNER_NAMESPACE") or "default", experiment, trial)


def log_model(
    model_or_path: Any,
    name: str = "model",
    *,
    flavor: str | None = None,
    input_example: Any = None,
    signature: Signature | None = None,
    serialization: str | None = None,
    path: str | Path | None = None,
) -> LoggedModel | Path:
    """Store `model_or_path` as the model `name` of the running trial (or write it to `path`).

    Args:
        model_or_path: a fitted scikit-learn estimator, an object with `predict(batch)`, an ONNX
            `ModelProto`, or the path of a saved model file.
        name: the model's name; `tuner models promote EXPERIMENT --model NAME` registers it under it.
        flavor: "sklearn", "python" or "onnx" (default: detected from the object or file).
        input_example: a few rows the model accepts (array, list of rows or DataFrame); the signature is
            inferred from it and the model's answer, and it is kept with the version.
        signature: the signature, when there is no input example to infer it from.
        serialization: for sklearn models, "joblib" (default) or "skops".
        path: inside a pipeline task, the `.path` of its `Output[Model]`: the model folder is written
            there and the pipeline runner stores it as the task's output (lineage to the task); returns
            the path.

    Raises:
        RuntimeError: not called from inside a trial.
        FlavorError: the model cannot be saved in that flavor.
    """
    flavor = flavor or flavors.detect_flavor(model_or_path)
    if path is not None:
        return write_model(
            model_or_path,
            Path(path),
            name,
            flavor=flavor,
            input_example=input_example,
            signature=signature,
            serialization=serialization,
        )
    context = TrialContext.from_environment()
    store = open_store(context.store_url)
    try:
        experiment = store.get_experiment(context.experiment, context.namespace)
        trial = store.get_trial_by_name(experiment.id, context.trial)
        return save_to_store(
            store,
            Settings.from_env(),
            model_or_path,
            name,
            flavor=flavor,
            input_example=input_example,
            signature=signature,
            serialization=serialization,
            trial_id=trial.id,
        )
    finally:
        store.close()


def write_model(
    model_or_path: Any,
    folder: Path,
    name: str,
    *,
    flavor: str,
    input_example: Any = None,
    signature: Signature | None = None,
    serialization: str | None = None,
) -> Path:
    """Write the model folder (model file + tuner-model.json with signature and input example)."""
    if not name or "/" in name:
        raise ValueError(f"model name {name!r} must be a non-empty name without '/', e.g. 'model'")
    example: np.ndarray | None = None
    if input_example is not None:
        example = as_batch(input_example)
    meta = flavors.save(model_or_path, flavor, folder, serialization)
    if signature is None and example is not None:
        predict = flavors.load(folder, meta)
        signature = infer_signature(example, predict(example))
    meta.update(
        name=name,
        signature=signature.to_dict() if signature else None,
        input_example=example_rows(example) if example is not None else None,
    )
    flavors.write_meta(folder, meta)
    return folder


def save_to_store(
    store: Store,
    settings: Settings,
    model_or_path: Any,
    name: str,
    *,
    flavor: str,
    input_example: Any = None,
    signature: Signature | None = None,
    serialization: str | None = None,
    trial_id: int | None = None,
    task_id: int | None = None,
) -> LoggedModel:
    """Save, store and record one model (the work of `log_model` once the trial is known)."""
    with tempfile.TemporaryDirectory(prefix="tuner-model-") as scratch:
        folder = write_model(
            model_or_path,
            Path(scratch) / "model",
            name,
            flavor=flavor,
            input_example=input_example,
            signature=signature,
            serialization=serialization,
        )
        meta = flavors.read_meta(folder)
        stored = open_artifact_store(settings=settings).put_dir(folder)
    artifact = store.register_artifact(
        stored.uri,
        type=MODEL_TYPE,
        digest=stored.digest,
        size=stored.size,
        name=name,
        metadata={k: meta[k] for k in ("flavor", "serialization", "signature", "input_example", "file")},
    )
    if trial_id is not None or task_id is not None:
        store.record_event(artifact.id, Direction.OUTPUT, trial_id=trial_id, task_id=task_id, port=name)
    return LoggedModel(name, artifact, trial_id or 0, flavor, signature)
