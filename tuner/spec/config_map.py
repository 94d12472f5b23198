"""ConfigMap trial templates read from files: Katib keeps them in the cluster, a laptop keeps them on disk.

A `trialTemplate.configMap` names a ConfigMap (name, namespace) and the key holding the workload. Without a
cluster, the ConfigMap is a manifest (`kind: ConfigMap`, as `kubectl apply -f` takes it) in the experiment
file's folder. The loader checks a template found there as Katib's webhook checks the fetched one, and the
local runner runs it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tuner.errors import Problem
from tuner.spec.experiment import Experiment


class TemplateNotFound(Exception):
    """The ConfigMap or its key is not readable here; `problem` says which and what to do."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def config_map_template(experiment: Experiment, folder: Path) -> dict[str, Any] | None:
    """The workload of the experiment's configMap template, read from a manifest in `folder`.

    None when the experiment has an inline `trialSpec` or no `configMap`.

    Raises:
        TemplateNotFound: no such ConfigMap manifest, no such key, or the key does not hold a YAML object.
    """
    template = experiment.spec.trial_template
    source = template.config_map
    if template.trial_spec is not None or source is None:
        return None
    return find_config_map_template(
        folder,
        source.config_map_name or "",
        source.config_map_namespace or experiment.namespace,
        source.template_path or "",
    )


def find_config_map_template(folder: Path, name: str, namespace: str, key: str) -> dict[str, Any]:
    """The trial template stored under `key` in a ConfigMap manifest found in `folder` (*.yaml, *.yml).

    Raises:
        TemplateNotFound: as `config_map_template`.
    """
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        try:
            documents = list(yaml.safe_load_all(path.read_text()))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        for doc in documents:
            if not isinstance(doc, dict) or doc.get("kind") != "ConfigMap":
                continue
            meta = doc.get("metadata") or {}
            if meta.get("name") != name or meta.get("namespace", namespace) != namespace:
                continue
            data = doc.get("data")
            text = data.get(key) if isinstance(data, dict) else None
            if text is None:
                raise TemplateNotFound(
                    Problem(
                        "spec.trialTemplate.configMap.templatePath",
                        f"ConfigMap {name!r} in {path.name} has no key {key!r}",
                    )
                )
            try:
                template = yaml.safe_load(text) if isinstance(text, str) else text
            except yaml.YAMLError as exc:
                raise TemplateNotFound(
                    Problem(
                        "spec.trialTemplate.configMap.templatePath",
                        f"{key!r} in ConfigMap {name!r} ({path.name}) is not valid YAML: "
                        f"{_yaml_reason(exc)}; write the trial's workload (e.g. a batch/v1 Job) there",
                    )
                ) from None
            if not isinstance(template, dict):
                raise TemplateNotFound(
                    Problem(
                        "spec.trialTemplate.configMap.templatePath",
                        f"{key!r} in ConfigMap {name!r} is not a YAML object",
                    )
                )
            return template
    raise TemplateNotFound(
        Problem(
            "spec.trialTemplate.configMap",
            f"ConfigMap {name!r} was not found: locally the template is read from a ConfigMap manifest "
            f"(kind: ConfigMap) in {folder}; add it there or write the template inline as `trialSpec`",
        )
    )


def _yaml_reason(exc: yaml.YAMLError) -> str:
    """One line from a YAML error: the problem and where in the embedded text."""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else problem
