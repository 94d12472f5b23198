"""`spec.trialTemplate`: the workload each trial runs, and the `${trialParameters.x}` it substitutes.

The workload (`trialSpec`) is any Kubernetes object and stays a plain dict, so that whatever kubectl
exports round-trips unchanged. `configMap` is the other source Katib allows (the template lives in the
cluster); it parses and validates here, fetching it is the Kubernetes launcher's job.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic import Field

from tuner.spec import workload
from tuner.spec.field_types import KatibModel
from tuner.spec.paths import child

PLACEHOLDER = re.compile(r"\$\{trialParameters\.(.+?)\}")
"""A trial parameter placeholder, as Katib finds them (`${trialParameters.learningRate}`)."""

META_REFERENCE = re.compile(r"^\$\{trialSpec\.(.+?)\}$")
"""A trial-metadata reference, e.g. `${trialSpec.Name}` or `${trialSpec.Labels[team]}`."""

META_KEYS = ("Name", "Namespace", "Kind", "APIVersion")
META_MAP_KEYS = ("Labels", "Annotations")


def is_meta_reference(reference: str) -> bool:
    """True if `reference` names trial metadata (`${trialSpec.Name|Namespace|Kind|APIVersion}` or
    `${trialSpec.Labels[key]}` / `${trialSpec.Annotations[key]}`) rather than a parameter."""
    match = META_REFERENCE.match(reference)
    if not match:
        return False
    key = match.group(1)
    if key in META_KEYS:
        return True
    indexed = re.fullmatch(r"(.+)\[(.+)\]", key)
    return bool(indexed and indexed.group(1) in META_MAP_KEYS)


class TrialParameterSpec(KatibModel):
    """One `trialParameters[]` entry: a placeholder name and what fills it (a parameter or trial metadata)."""

    name: str | None = None
    description: str | None = None
    reference: str | None = None


class ConfigMapSource(KatibModel):
    """`trialTemplate.configMap`: a template stored in a ConfigMap of the cluster."""

    config_map_name: str | None = Field(default=None, alias="configMapName")
    config_map_namespace: str | None = Field(default=None, alias="configMapNamespace")
    template_path: str | None = Field(default=None, alias="templatePath")


class TrialTemplate(KatibModel):
    """`spec.trialTemplate`."""

    primary_container_name: str | None = Field(default=None, alias="primaryContainerName")
    primary_pod_labels: dict[str, str] | None = Field(default=None, alias="primaryPodLabels")
    success_condition: str | None = Field(default=None, alias="successCondition")
    failure_condition: str | None = Field(default=None, alias="failureCondition")
    retain: bool | None = None
    trial_parameters: list[TrialParameterSpec] | None = Field(default=None, alias="trialParameters")
    trial_spec: dict[str, Any] | None = Field(default=None, alias="trialSpec")
    config_map: ConfigMapSource | None = Field(default=None, alias="configMap")

    @property
    def workload_kind(self) -> str | None:
        """The `kind` of the inline workload (None for a configMap template)."""
        kind = self.trial_spec.get("kind") if self.trial_spec else None
        return kind if isinstance(kind, str) else None

    @property
    def workload_api_version(self) -> str | None:
        """The `apiVersion` of the inline workload (None for a configMap template)."""
        version = self.trial_spec.get("apiVersion") if self.trial_spec else None
        return version if isinstance(version, str) else None

    def primary_container(self) -> dict[str, Any] | None:
        """The container named `primaryContainerName` in the inline workload, or None if not found.

        Looks where the workload's kind keeps its pods (batch Job, Kubeflow training jobs) and searches pod
        templates for any other kind. Returns the template's own dict: copy it before changing it.
        """
        if not self.trial_spec or not self.primary_container_name:
            return None
        found = workload.find_container(self.trial_spec, self.primary_container_name)
        return found[1] if found else None

    def trial_parameter(self, name: str) -> TrialParameterSpec | None:
        """The declared trial parameter called `name`, if any."""
        return next((p for p in self.trial_parameters or [] if p.name == name), None)

    def placeholders(self) -> Iterator[tuple[str, str]]:
        """Every `${trialParameters.x}` in the inline workload as (path inside trialSpec, x), in order."""
        if self.trial_spec is not None:
            yield from placeholders_in(self.trial_spec)


def placeholders_in(body: Any) -> Iterator[tuple[str, str]]:
    """Every `${trialParameters.x}` in a workload object as (path inside it, x), in order."""
    yield from _placeholders(body, "")


def _placeholders(node: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, str):
        for match in PLACEHOLDER.finditer(node):
            yield path, match.group(1)
    elif isinstance(node, dict):
        for key, value in node.items():
            inner = child(path, str(key))
            yield from _placeholders(str(key), inner)
            yield from _placeholders(value, inner)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _placeholders(item, f"{path}[{i}]")
