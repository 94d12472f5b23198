"""Which namespace a record of the metadata store belongs to, so that namespaced routes answer 404 for a
record of another namespace (and the auth layer can check the `namespace` path parameter alone).

Artifacts have no namespace of their own: one belongs to the namespaces of the tasks and trials that read
or wrote it, and of the registered models whose versions hold it.
"""

from __future__ import annotations

from tuner.errors import NotFoundError
from tuner.store import StoreReader
from tuner.store.records import NodeKind


def artifact_namespaces(store: StoreReader, artifact_id: int) -> set[str]:
    found: set[str] = set()
    for event in store.list_events(artifact_id=artifact_id):
        if event.task_id is not None:
            found.add(store.get_run(store.get_task(event.task_id).run_id).namespace)
        if event.trial_id is not None:
            found.add(store.get_experiment_by_id(store.get_trial(event.trial_id).experiment_id).namespace)
    for model in store.list_registered_models():
        if any(v.artifact_id == artifact_id for v in store.list_model_versions(model.id)):
            found.add(model.namespace)
    return found


def _model_namespace(store: StoreReader, model_id: int) -> str:
    for model in store.list_registered_models():
        if model.id == model_id:
            return model.namespace
    raise NotFoundError(f"no registered model with id {model_id}")


def belongs(store: StoreReader, kind: NodeKind, record_id: int, namespace: str) -> bool:
    """Whether the record exists and belongs to `namespace` (NotFoundError when it does not exist)."""
    if kind == NodeKind.EXPERIMENT:
        return store.get_experiment_by_id(record_id).namespace == namespace
    if kind == NodeKind.TRIAL:
        return store.get_experiment_by_id(store.get_trial(record_id).experiment_id).namespace == namespace
    if kind == NodeKind.PIPELINE_RUN:
        return store.get_run(record_id).namespace == namespace
    if kind == NodeKind.TASK:
        return store.get_run(store.get_task(record_id).run_id).namespace == namespace
    if kind == NodeKind.ARTIFACT:
        store.get_artifact(record_id)
        return namespace in artifact_namespaces(store, record_id)
    if kind == NodeKind.MODEL_VERSION:
        return _model_namespace(store, store.get_model_version_by_id(record_id).model_id) == namespace
    if kind == NodeKind.REVISION:
        return store.get_deployment_by_id(store.get_revision(record_id).deployment_id).namespace == namespace
    return store.get_deployment_by_id(record_id).namespace == namespace
