"""Reading the workload object of a trial template: its kind and where its containers are.

A trial template holds an arbitrary Kubernetes object (`trialSpec`), kept as a plain dict so that any kind
kubectl knows round-trips untouched. This module knows the few shapes Katib itself special-cases: the
batch/v1 Job (`spec.template.spec.containers`), the Kubeflow training jobs
(`spec.<x>ReplicaSpecs.<role>.template.spec.containers`) and, for any other kind, pod templates found by
searching the object. It reads; it never renders or changes the object.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from tuner.spec.paths import child

JOB_KIND = "Job"
TRAIN_JOB_KIND = "TrainJob"
KUBEFLOW_JOB_KINDS = frozenset({"TFJob", "PyTorchJob", "XGBoostJob", "MPIJob"})
"""Kinds for which Katib defaults the success/failure conditions and the primary pod labels."""

ContainerRef = tuple[str, dict[str, Any]]
"""A container and the dotted path to it inside the workload, e.g. `spec.template.spec.containers[0]`."""


def _containers_of(pod_spec: Any, path: str) -> Iterator[ContainerRef]:
    if not isinstance(pod_spec, Mapping):
        return
    containers = pod_spec.get("containers")
    if isinstance(containers, list):
        for i, container in enumerate(containers):
            if isinstance(container, dict):
                yield f"{path}.containers[{i}]", container


def _template_spec(holder: Any) -> Any:
    template = holder.get("template") if isinstance(holder, Mapping) else None
    return template.get("spec") if isinstance(template, Mapping) else None


def _job_containers(workload: Mapping[str, Any]) -> Iterator[ContainerRef]:
    yield from _containers_of(_template_spec(workload.get("spec")), "spec.template.spec")


def _kubeflow_containers(workload: Mapping[str, Any]) -> Iterator[ContainerRef]:
    spec = workload.get("spec")
    if not isinstance(spec, Mapping):
        return
    for key, replica_specs in spec.items():
        if not (isinstance(key, str) and key.endswith("ReplicaSpecs") and isinstance(replica_specs, Mapping)):
            continue
        for role, replica in replica_specs.items():
            yield from _containers_of(_template_spec(replica), f"spec.{key}.{role}.template.spec")


def _searched_containers(node: Any, path: str) -> Iterator[ContainerRef]:
    """Any `containers: [...]` list, and Argo-style single `container: {...}` objects, anywhere."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            inner = child(path, str(key))
            if key == "containers" and isinstance(value, list):
                for i, container in enumerate(value):
                    if isinstance(container, dict):
                        yield f"{inner}[{i}]", container
            elif key == "container" and isinstance(value, dict) and "name" in value:
                yield inner, value
            else:
                yield from _searched_containers(value, inner)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _searched_containers(item, f"{path}[{i}]")


PIPELINE_RUN_KIND = "PipelineRun"
"""tuner's own workload kind: a trial that runs a pipeline (`spec.pipeline`, `spec.arguments`)."""

PIPELINE_GROUP = "tuner.dev"


def is_pipeline_run(workload: Mapping[str, Any] | None) -> bool:
    """True for a `tuner.dev/*` PipelineRun workload (a pipeline run as a trial)."""
    if not workload:
        return False
    api_version = workload.get("apiVersion")
    return (
        workload.get("kind") == PIPELINE_RUN_KIND
        and isinstance(api_version, str)
        and api_version.split("/")[0] == PIPELINE_GROUP
    )


def has_known_layout(kind: str | None) -> bool:
    """True for kinds whose container layout is fixed (Job, Kubeflow training jobs)."""
    return kind == JOB_KIND or kind in KUBEFLOW_JOB_KINDS


def containers(workload: Mapping[str, Any]) -> list[ContainerRef]:
    """Every container of the workload with its path, in document order."""
    kind = workload.get("kind") if isinstance(workload.get("kind"), str) else None
    if kind == JOB_KIND:
        return list(_job_containers(workload))
    if kind in KUBEFLOW_JOB_KINDS:
        return list(_kubeflow_containers(workload))
    return list(_searched_containers(workload, ""))


def find_container(workload: Mapping[str, Any], name: str) -> ContainerRef | None:
    """The first container called `name`, or None. Returns the workload's own dict, not a copy."""
    for ref in containers(workload):
        if ref[1].get("name") == name:
            return ref
    return None


ARGO_WORKFLOW_KIND = "Workflow"
ARGO_GROUP = "argoproj.io"


def is_argo_workflow(workload: Mapping[str, Any] | None) -> bool:
    """True for an Argo Workflow (`argoproj.io/*`, kind Workflow)."""
    if not workload:
        return False
    api_version = workload.get("apiVersion")
    return (
        workload.get("kind") == ARGO_WORKFLOW_KIND
        and isinstance(api_version, str)
        and api_version.split("/")[0] == ARGO_GROUP
    )


def argo_primary_steps(
    workload: Mapping[str, Any], primary_pod_labels: Mapping[str, str] | None
) -> list[str]:
    """The names of the Workflow's container templates whose pods Katib's metrics collector would wrap.

    A step's pod carries its template's `metadata.labels`; Katib wraps the pods that carry every label of
    `primaryPodLabels` (every pod when none are given), and in them the container Argo names `main`.
    """
    spec = workload.get("spec")
    templates = spec.get("templates") if isinstance(spec, Mapping) else None
    wanted = dict(primary_pod_labels or {})
    names: list[str] = []
    for template in templates if isinstance(templates, list) else []:
        if not isinstance(template, Mapping) or not any(k in template for k in ("container", "script")):
            continue
        metadata = template.get("metadata")
        labels = metadata.get("labels") if isinstance(metadata, Mapping) else None
        labels = labels if isinstance(labels, Mapping) else {}
        if all(str(labels.get(k)) == str(v) for k, v in wanted.items()):
            names.append(str(template.get("name", "")))
    return names
