"""`/api/v1/models/{namespace}`: the model registry over HTTP (what `tuner models ...` does locally).

Versions, aliases and their history, promotion of an experiment's best trial (with a canary), deletion.
Changes are recorded in the registry's history with the actor `tuner-server`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from serving.documents import history_documents, model_summaries, version_document
from serving.registry import Registry
from tuner.server.deps import store_of
from tuner.server.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/api/v1/models/{namespace}", tags=["models"], responses=PROBLEM_RESPONSES)

ACTOR = "tuner-server"


class AliasChange(BaseModel):
    version: int = Field(ge=1, description="The version the alias should name.")
    reason: str = Field("", description="Why, for the history.")


class PromoteRequest(BaseModel):
    experiment: str = Field(description="The experiment whose best trial's model to promote.")
    model: str | None = Field(None, description="Registered model name (default: the logged name).")
    alias: str = Field("production", description="The alias to move.")
    canary: int | None = Field(
        None, ge=1, le=100, description="Percent of traffic for the new version first."
    )


def _registry(request: Request, namespace: str) -> Registry:
    return Registry(store_of(request), actor=ACTOR, namespace=namespace)


@router.get("", summary="List registered models")
def list_models(request: Request, namespace: str) -> dict[str, Any]:
    return {"models": model_summaries(_registry(request, namespace))}


@router.get("/{name}", summary="A model: its newest version, aliases and history")
def get_model(request: Request, namespace: str, name: str) -> dict[str, Any]:
    registry = _registry(request, namespace)
    model, version = registry.resolve(name)
    document = version_document(registry, model.name, version)
    document["aliases"] = registry.store.list_aliases(model.id)
    document["history"] = history_documents(registry, model)
    return document


@router.get("/{name}/versions", summary="A model's versions")
def list_versions(request: Request, namespace: str, name: str) -> dict[str, Any]:
    registry = _registry(request, namespace)
    model = registry.model(name)
    versions = registry.store.list_model_versions(model.id)
    return {"versions": [version_document(registry, name, v) for v in versions]}


@router.get("/{name}/versions/{version}", summary="One version")
def get_version(request: Request, namespace: str, name: str, version: int) -> dict[str, Any]:
    registry = _registry(request, namespace)
    model = registry.model(name)
    return version_document(registry, name, registry.store.get_model_version(model.id, version))


@router.put("/{name}/aliases/{alias}", summary="Point an alias at a version")
def set_alias(request: Request, namespace: str, name: str, alias: str, change: AliasChange) -> dict[str, Any]:
    event = _registry(request, namespace).set_alias(name, alias, change.version, reason=change.reason)
    return {"alias": alias, "version": change.version, "previousVersion": event.previous_version}


@router.delete("/{name}/aliases/{alias}", summary="Remove an alias")
def delete_alias(request: Request, namespace: str, name: str, alias: str) -> dict[str, Any]:
    event = _registry(request, namespace).delete_alias(name, alias)
    return {"alias": alias, "previousVersion": event.previous_version}


@router.delete("/{name}", summary="Delete a model with its versions, aliases and history")
def delete_model(request: Request, namespace: str, name: str) -> dict[str, Any]:
    _registry(request, namespace).delete_model(name)
    return {"deleted": name}


@router.post("", summary="Promote an experiment's best trial's model", status_code=200)
def promote(request: Request, namespace: str, body: PromoteRequest) -> dict[str, Any]:
    done = _registry(request, namespace).promote(
        body.experiment, model_name=body.model, alias=body.alias, canary=body.canary
    )
    return {
        "model": done.model,
        "version": done.version,
        "alias": done.alias,
        "previousVersion": done.previous_version,
        "canaryPercent": done.canary_percent,
        "trial": done.trial.name,
        "value": done.value,
        "created": done.created,
    }
