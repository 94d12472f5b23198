"""Registry objects as plain documents, the same for `tuner models ... -o json` and the REST API."""

from __future__ import annotations

from typing import Any

from serving.registry import Registry
from serving.uris import ModelRef
from tuner.store.records import ModelVersion, RegisteredModel


def version_document(registry: Registry, name: str, version: ModelVersion) -> dict[str, Any]:
    """One version: URI, flavor, digest, signature, input example, metrics, artifact and source (lineage)."""
    document: dict[str, Any] = {
        "name": name,
        "version": version.version,
        "uri": ModelRef(name, version=version.version).uri,
        "createdAt": str(version.created_at),
        "flavor": version.signature.get("flavor"),
        "digest": version.signature.get("digest"),
        "inputs": version.signature.get("inputs"),
        "outputs": version.signature.get("outputs"),
        "inputExample": version.signature.get("input_example"),
        "metrics": version.metrics,
    }
    if version.artifact_id is not None:
        document["artifact"] = registry.store.get_artifact(version.artifact_id).uri
    if version.source_trial_id is not None:
        trial = registry.store.get_trial(version.source_trial_id)
        experiment = registry.store.get_experiment_by_id(trial.experiment_id)
        document["source"] = {
            "experiment": experiment.name,
            "trial": trial.name,
            "parameters": trial.assignment_values(),
        }
    if version.source_task_id is not None:
        document["source"] = {"task": version.source_task_id}
    return document


def history_documents(registry: Registry, model: RegisteredModel) -> list[dict[str, Any]]:
    """The model's append-only history: who changed which alias or version, when and why."""
    return [
        {
            "at": str(event.at),
            "kind": event.kind,
            "alias": event.alias,
            "version": event.version,
            "previousVersion": event.previous_version,
            "actor": event.actor,
            "reason": event.reason,
        }
        for event in registry.store.registry_history(model.id)
    ]


def model_summaries(registry: Registry) -> list[dict[str, Any]]:
    """Every registered model of the registry's namespace: name, number of versions and aliases."""
    store = registry.store
    return [
        {
            "name": model.name,
            "versions": len(store.list_model_versions(model.id)),
            "aliases": store.list_aliases(model.id),
        }
        for model in store.list_registered_models(registry.namespace)
    ]
