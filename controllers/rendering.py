"""Rendering a trial's workload from the experiment's trialTemplate, as Katib's manifest generator does.

Katib serialises the template to JSON and replaces every `${trialParameters.<name>}` with the value of the
parameter (or trial-metadata reference) it names, as plain text, then parses the JSON back. We do the same,
with one fix: values are JSON-escaped when inserted, so a categorical value holding a quote or a backslash
renders faithfully instead of corrupting the document.

Then, for local execution, the primary container is located and its `command`/`args` get Kubernetes'
`$(VAR)` expansion from the container's environment (`$$(VAR)` stays literal `$(VAR)`; unknown names are
left as written), exactly as the kubelet would.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tuner.errors import Problem, SpecError
from tuner.spec.workload import find_container

_META_REFERENCE = re.compile(
    r"^\$\{trialSpec\.(Name|Namespace|Kind|APIVersion|Labels|Annotations)(?:\[(.+)\])?\}$"
)
_ENV_REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


@dataclass(frozen=True)
class TrialIdentity:
    """What `${trialSpec.*}` references resolve to."""

    name: str
    namespace: str
    kind: str
    api_version: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]


def render_trial_spec(
    trial_spec: Mapping[str, Any],
    trial_parameters: Sequence[tuple[str, str]],
    assignment: Mapping[str, str],
    trial: TrialIdentity,
) -> dict[str, Any]:
    """The workload of one trial: the template with its placeholders replaced and its name set.

    Args:
        trial_spec: `trialTemplate.trialSpec` as written (or read from the config map).
        trial_parameters: (name, reference) of each `trialTemplate.trialParameters` entry.
        assignment: parameter name -> rendered value (`5`, `0.01`, `adam`).
        trial: the identity `${trialSpec.Name}` and friends resolve to.
    """
    text = json.dumps(trial_spec)
    for name, reference in trial_parameters:
        value = _resolve(reference, assignment, trial)
        escaped = json.dumps(value)[1:-1]
        text = text.replace("${trialParameters." + name + "}", escaped)
    rendered: dict[str, Any] = json.loads(text)
    metadata = rendered.setdefault("metadata", {})
    metadata["name"] = trial.name
    metadata["namespace"] = trial.namespace
    return rendered


def _resolve(reference: str, assignment: Mapping[str, str], trial: TrialIdentity) -> str:
    if reference in assignment:
        return assignment[reference]
    match = _META_REFERENCE.match(reference)
    if not match:
        raise SpecError(
            [Problem("spec.trialTemplate.trialParameters", f"reference {reference!r} names no parameter")]
        )
    key, index = match.group(1), match.group(2)
    simple = {
        "Name": trial.name,
        "Namespace": trial.namespace,
        "Kind": trial.kind,
        "APIVersion": trial.api_version,
    }
    if key in simple:
        return simple[key]
    source = trial.labels if key == "Labels" else trial.annotations
    return source.get(index or "", "")


def primary_container(workload: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    """The container called `name` (Katib's primaryContainerName) wherever the workload's kind keeps it."""
    found = find_container(workload, name)
    return found[1] if found else None


def expand_env_references(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes' `$(VAR)` expansion in a command or argument."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env[name] if name in env else match.group(0)

    return _ENV_REFERENCE.sub(replace, text)


def container_env(container: Mapping[str, Any], trial: TrialIdentity) -> tuple[dict[str, str], list[str]]:
    """The container's `env` as a dict, with `$(VAR)` expanded in order, plus what cannot be honoured locally.

    `valueFrom.fieldRef` to the pod's name or namespace resolves to the trial's; secrets, config maps and
    resource fields cannot be read without a cluster and are reported back (the caller warns once).
    """
    env: dict[str, str] = {}
    unsupported: list[str] = []
    for item in container.get("env") or []:
        name = str(item.get("name", ""))
        if "value" in item:
            env[name] = expand_env_references(str(item["value"]), env)
            continue
        field_path = ((item.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath")
        if field_path == "metadata.name":
            env[name] = trial.name
        elif field_path == "metadata.namespace":
            env[name] = trial.namespace
        elif "valueFrom" in item:
            unsupported.append(name)
        else:
            env[name] = ""
    if container.get("envFrom"):
        unsupported.append("envFrom")
    return env, unsupported
