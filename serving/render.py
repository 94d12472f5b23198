"""Kubernetes manifests that serve `NAME@alias` as the registry has it now.

Two kinds:

* `kserve`: an InferenceService (serving.kserve.io/v1beta1) whose predictor is a custom container running
  `tuner serve NAME/VERSION` (Open Inference Protocol V2 on port 8080, any flavor). During a canary the
  container names the canary version and `canaryTrafficPercent` gives it its share: applied over the
  running InferenceService, KServe keeps the rest on the revision rolled out before.
* `deployment`: plain Deployments and one Service. Each version in the split gets its own Deployment
  (`NAME-ALIAS-vN`) running `tuner serve NAME/N`; the Service selects them all, so the split follows
  the replica counts (out of `replicas` per 100 %, at least one each).

The pods read the registry and the artifacts through TUNER_STORE and TUNER_ARTIFACTS, taken from a
Secret (`tuner-store` by default) so no credential is written into a manifest.
"""

from __future__ import annotations

import re
from typing import Any

from serving.registry import CANARY, Registry

PORT = 8080


def _k8s_name(text: str) -> str:
    """A DNS-1123 label from a model or alias name."""
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return name[:63].strip("-") or "model"


def _container(image: str, ref: str, secret: str) -> dict[str, Any]:
    probe = {"httpGet": {"path": "/v2/health/ready", "port": PORT}, "periodSeconds": 5}
    return {
        "name": "kserve-container",
        "image": image,
        "args": ["tuner", "serve", ref, "--host", "0.0.0.0", "--port", str(PORT)],
        "ports": [{"containerPort": PORT, "protocol": "TCP"}],
        "env": [
            {"name": var, "valueFrom": {"secretKeyRef": {"name": secret, "key": var}}}
            for var in ("TUNER_STORE", "TUNER_ARTIFACTS")
        ],
        "readinessProbe": probe,
        "livenessProbe": {"httpGet": {"path": "/v2/health/live", "port": PORT}, "periodSeconds": 10},
        "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}},
    }


def render(
    registry: Registry,
    model: str,
    alias: str,
    *,
    kind: str = "kserve",
    image: str,
    namespace: str = "default",
    secret: str = "tuner-store",
    replicas: int = 10,
) -> list[dict[str, Any]]:
    """The manifests for `model@alias` (see the module docstring)."""
    _, routes = registry.routes(model, alias)
    live = [route for route in routes if route.percent > 0]
    base = _k8s_name(f"{model}-{alias}")
    labels = {"app.kubernetes.io/name": base, "app.kubernetes.io/managed-by": "tuner"}
    annotations = {"tuner.dev/model": f"models:/{model}@{alias}"}
    if kind == "kserve":
        canary = next((r for r in live if r.tag == CANARY), None)
        target = canary or live[0]
        predictor: dict[str, Any] = {
            "containers": [_container(image, f"{model}/{target.version.version}", secret)],
            "minReplicas": 1,
        }
        if canary is not None:
            predictor["canaryTrafficPercent"] = canary.percent
        return [
            {
                "apiVersion": "serving.kserve.io/v1beta1",
                "kind": "InferenceService",
                "metadata": {
                    "name": base,
                    "namespace": namespace,
                    "labels": labels,
                    "annotations": annotations,
                },
                "spec": {"predictor": predictor},
            }
        ]
    documents: list[dict[str, Any]] = []
    for route in live:
        name = f"{base}-v{route.version.version}"
        pod_labels = {**labels, "tuner.dev/version": str(route.version.version), "tuner.dev/track": route.tag}
        documents.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "labels": pod_labels,
                    "annotations": annotations,
                },
                "spec": {
                    "replicas": max(1, round(replicas * route.percent / 100)),
                    "selector": {"matchLabels": pod_labels},
                    "template": {
                        "metadata": {"labels": pod_labels},
                        "spec": {
                            "containers": [_container(image, f"{model}/{route.version.version}", secret)]
                        },
                    },
                },
            }
        )
    documents.append(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": base, "namespace": namespace, "labels": labels, "annotations": annotations},
            "spec": {
                "selector": labels,
                "ports": [{"name": "http", "port": 80, "targetPort": PORT, "protocol": "TCP"}],
            },
        }
    )
    return documents
