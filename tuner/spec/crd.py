"""The CustomResourceDefinitions of `crds/` (Experiment, Trial, Suggestion), generated from the spec models.

The models in `tuner.spec` are the one description of the documents; the CRDs are derived from them so that
`kubectl apply` and `tuner run` accept the same files. The schema adds what the API server can enforce
itself: enumerations, the count minimums of `tuner.spec.validation.check_counts`, and the defaults of
Katib's webhook that do not depend on other fields (`DEFAULTS`). Everything else (metric strategies by
objective type, collector paths by kind, cross-field rules) stays with `apply_defaults` and
`validate_experiment`, which the operator runs on every object it reads.

    python -m tuner.spec.crd write [DIR]    # (re)write the YAML files, default crds/
    python -m tuner.spec.crd check [DIR]    # exit 1 and name the files that differ from the models
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any

import yaml
from pydantic import BaseModel

from tuner.spec.collector import CollectorKind
from tuner.spec.defaults import DEFAULT_PARALLEL_TRIAL_COUNT
from tuner.spec.experiment import Experiment, ResumePolicy
from tuner.spec.openapi import Path, structural
from tuner.spec.parameters import Distribution
from tuner.spec.suggestion import Suggestion
from tuner.spec.trial import Trial

GROUP = "tuner.dev"
VERSION = "v1beta1"
CATEGORIES = ["tuner"]
HEADER = "# Generated from the tuner.spec models by `python -m tuner.spec.crd write`; do not edit.\n"

_LAST_CONDITION = ".status.conditions[-1:].type"
_AGE = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}

_TEXT_ONLY = {"type": "string"}
"""Katib's string-typed list entries: a file writes them as text (Python-built specs keep types locally)."""

_STDOUT = {"kind": CollectorKind.STDOUT.value}

EXPERIMENT_DEFAULTS: dict[Path, Any] = {
    ("spec", "parallelTrialCount"): DEFAULT_PARALLEL_TRIAL_COUNT,
    ("spec", "resumePolicy"): ResumePolicy.NEVER.value,
    ("spec", "parameters", "[]", "feasibleSpace", "distribution"): Distribution.UNIFORM.value,
    ("spec", "metricsCollectorSpec"): {"collector": _STDOUT},
    ("spec", "metricsCollectorSpec", "collector"): _STDOUT,
    ("spec", "metricsCollectorSpec", "collector", "kind"): CollectorKind.STDOUT.value,
}
"""Katib's webhook defaults that hold whatever else the object says (`tuner.spec.defaults`)."""

EXPERIMENT_MINIMUMS: dict[Path, int] = {
    ("spec", "parallelTrialCount"): 1,
    ("spec", "maxTrialCount"): 1,
    ("spec", "maxFailedTrialCount"): 0,
}
"""The count rules of `tuner.spec.validation.check_counts` (a test keeps both in step)."""


@dataclass(frozen=True)
class Resource:
    """One custom resource: its names, its model, how `kubectl get` shows it, and its schema rules."""

    kind: str
    plural: str
    model: type[BaseModel]
    columns: Sequence[Mapping[str, Any]]
    defaults: Mapping[Path, Any] = field(default_factory=dict)
    minimums: Mapping[Path, int] = field(default_factory=dict)
    overrides: Mapping[Path, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def name(self) -> str:
        """The CRD's own name, `<plural>.<group>`."""
        return f"{self.plural}.{GROUP}"


_PARAMETER_LISTS: dict[Path, Mapping[str, Any]] = {
    ("spec", "parameters", "[]", "feasibleSpace", "list", "[]"): _TEXT_ONLY,
    ("spec", "nasConfig", "operations", "[]", "parameters", "[]", "feasibleSpace", "list", "[]"): _TEXT_ONLY,
}

RESOURCES = (
    Resource(
        kind="Experiment",
        plural="experiments",
        model=Experiment,
        columns=[
            {"name": "Status", "type": "string", "jsonPath": _LAST_CONDITION},
            {
                "name": "Best",
                "type": "number",
                "jsonPath": ".status.currentOptimalTrial.objectiveValue",
                "description": "The objective value of the best trial so far",
            },
            {"name": "Succeeded", "type": "integer", "jsonPath": ".status.trialsSucceeded"},
            {"name": "Running", "type": "integer", "jsonPath": ".status.trialsRunning"},
            {"name": "Failed", "type": "integer", "jsonPath": ".status.trialsFailed"},
            _AGE,
        ],
        defaults=EXPERIMENT_DEFAULTS,
        minimums=EXPERIMENT_MINIMUMS,
        overrides=_PARAMETER_LISTS,
    ),
    Resource(
        kind="Trial",
        plural="trials",
        model=Trial,
        columns=[
            {"name": "Status", "type": "string", "jsonPath": _LAST_CONDITION},
            {
                "name": "Objective",
                "type": "string",
                "jsonPath": ".status.observation.metrics[0].latest",
                "description": "The latest value of the first observed metric (the objective)",
            },
            _AGE,
        ],
    ),
    Resource(
        kind="Suggestion",
        plural="suggestions",
        model=Suggestion,
        columns=[
            {"name": "Status", "type": "string", "jsonPath": _LAST_CONDITION},
            {"name": "Requested", "type": "integer", "jsonPath": ".spec.requests"},
            {"name": "Assigned", "type": "integer", "jsonPath": ".status.suggestionCount"},
            _AGE,
        ],
    ),
)


def schema_of(resource: Resource) -> dict[str, Any]:
    """The structural openAPIV3Schema of one resource."""
    extra: dict[Path, dict[str, Any]] = {}
    for path, value in resource.defaults.items():
        extra.setdefault(path, {})["default"] = value
    for path, minimum in resource.minimums.items():
        extra.setdefault(path, {})["minimum"] = minimum
    schema = structural(
        resource.model.model_json_schema(by_alias=True),
        overrides=resource.overrides,
        extra=extra,
        replaced={("metadata",): {"type": "object"}},  # the API server owns metadata's schema
    )
    schema["description"] = f"A {resource.kind} of tuner (Katib v1beta1's {resource.kind}, field for field)."
    return schema


def definition(resource: Resource) -> dict[str, Any]:
    """The CustomResourceDefinition document of one resource."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": resource.name},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": resource.kind,
                "listKind": f"{resource.kind}List",
                "plural": resource.plural,
                "singular": resource.singular,
                "categories": list(CATEGORIES),
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema_of(resource)},
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [dict(c) for c in resource.columns],
                }
            ],
        },
    }


def file_name(resource: Resource) -> str:
    return f"{resource.singular}.yaml"


def rendered() -> dict[str, str]:
    """Every file of `crds/` by name: one per resource and a kustomization listing them."""
    files = {
        file_name(r): HEADER + yaml.safe_dump(definition(r), sort_keys=False, width=110) for r in RESOURCES
    }
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [file_name(r) for r in RESOURCES],
    }
    files["kustomization.yaml"] = HEADER + yaml.safe_dump(kustomization, sort_keys=False)
    return files


def write(folder: FilePath) -> list[str]:
    """Write the files into `folder` (created if missing); the names of those that changed."""
    folder.mkdir(parents=True, exist_ok=True)
    changed = []
    for name, text in rendered().items():
        target = folder / name
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            tmp = target.with_suffix(".tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(target)
            changed.append(name)
    return changed


def stale(folder: FilePath) -> list[str]:
    """The files of `folder` that are missing or differ from what the models give."""
    return [
        name
        for name, text in rendered().items()
        if not (folder / name).is_file() or (folder / name).read_text(encoding="utf-8") != text
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m tuner.spec.crd write|check [DIR]`: 0 done/equal, 1 files differ, 2 bad usage."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in ("write", "check") or len(args) > 2:
        print("usage: python -m tuner.spec.crd write|check [DIR]  (DIR defaults to crds/)", file=sys.stderr)
        return 2
    folder = FilePath(args[1] if len(args) > 1 else "crds")
    if args[0] == "write":
        changed = write(folder)
        print(f"{folder}: {', '.join(changed) if changed else 'already up to date'}")
        return 0
    differing = stale(folder)
    if differing:
        print(
            f"{folder}: {', '.join(differing)} differ from the tuner.spec models; "
            "run `python -m tuner.spec.crd write`",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
