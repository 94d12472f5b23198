"""pbt on Kubernetes: each trial's checkpoint folder on a shared volume, seeded from its parent's, Katib-style.

Katib's pbt service keeps `<experiment>/<trial>` folders on a ReadWriteMany volume, copies the parent's folder
to the new trial's before the trial starts, and the trial sees its folder at `suggestion_trial_dir`. Here the
PersistentVolumeClaim is named by the pbt setting `checkpoint_volume` (the user creates it, ReadWriteMany, as
Katib's FromVolume needs); every pod template holding the primary container gets:

- the claim as volume `tuner-checkpoints`, and in the primary container a mount of its subPath
  `<experiment>/<trial>` at `suggestion_trial_dir` (default `/var/log/katib/checkpoints`), with
  TUNER_CHECKPOINT_DIR naming that path (`tuner.checkpoint_dir()` works in the pod);
- for a trial with a parent, an init container (busybox) that copies `<experiment>/<parent>` into the
  trial's folder when that folder is still empty (a retried attempt keeps what the failed one saved).

The parent's folder itself is not mounted in the trial (TUNER_PARENT_CHECKPOINT_DIR is unset there): its copy
is in the trial's own folder, as in Katib.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from suggestions.pbt import PARENT_LABEL
from tuner.errors import Problem
from tuner.spec import Experiment

VOLUME = "tuner-checkpoints"
DEFAULT_MOUNT_PATH = "/var/log/katib/checkpoints"
SEED_IMAGE = "busybox:1.36"
_SEED_ROOT = "/tuner-checkpoints"
_SEED_SCRIPT = (
    'mkdir -p "$OWN" && if [ -d "$PARENT" ] && [ -z "$(ls -A "$OWN")" ]; then cp -a "$PARENT"/. "$OWN"/; fi'
)


def pbt_volume(experiment: Experiment) -> tuple[str, str] | None:
    """(claim, mount path) for a pbt experiment with `checkpoint_volume` set, else None."""
    if experiment.spec.algorithm_name != "pbt":
        return None
    settings = experiment.spec.algorithm.settings()
    claim = settings.get("checkpoint_volume")
    if not claim:
        return None
    return str(claim), str(settings.get("suggestion_trial_dir") or DEFAULT_MOUNT_PATH).rstrip("/") or "/"


def cluster_problems(experiment: Experiment) -> list[Problem]:
    """A pbt experiment needs its checkpoint volume named to run on the cluster."""
    if experiment.spec.algorithm_name != "pbt" or pbt_volume(experiment) is not None:
        return []
    return [
        Problem(
            "spec.algorithm.algorithmSettings.checkpoint_volume",
            "pbt on Kubernetes keeps each trial's checkpoint folder on a shared volume: create a ReadWriteMany "
            "PersistentVolumeClaim in the experiment's namespace and name it in the setting checkpoint_volume",
        )
    ]


def mount_checkpoints(
    workload: dict[str, Any],
    container_name: str,
    experiment: str,
    trial: str,
    labels: Mapping[str, str] | None,
    claim: str,
    mount_path: str,
) -> None:
    """Give the trial's pods its checkpoint folder (module docstring); changes `workload` in place."""
    parent = (labels or {}).get(PARENT_LABEL)
    for pod_spec in _pod_specs(workload):
        primary = [c for c in pod_spec.get("containers") or [] if c.get("name") == container_name]
        if not primary:
            continue
        volumes = [v for v in pod_spec.get("volumes") or [] if v.get("name") != VOLUME]
        pod_spec["volumes"] = [*volumes, {"name": VOLUME, "persistentVolumeClaim": {"claimName": claim}}]
        for container in primary:
            mounts = [m for m in container.get("volumeMounts") or [] if m.get("name") != VOLUME]
            mount = {"name": VOLUME, "mountPath": mount_path, "subPath": f"{experiment}/{trial}"}
            container["volumeMounts"] = [*mounts, mount]
            env = [e for e in container.get("env") or [] if e.get("name") != "TUNER_CHECKPOINT_DIR"]
            container["env"] = [*env, {"name": "TUNER_CHECKPOINT_DIR", "value": mount_path}]
        if parent:
            seed = {
                "name": "tuner-checkpoint-seed",
                "image": SEED_IMAGE,
                "command": ["sh", "-c", _SEED_SCRIPT],
                "env": [
                    {"name": "OWN", "value": f"{_SEED_ROOT}/{experiment}/{trial}"},
                    {"name": "PARENT", "value": f"{_SEED_ROOT}/{experiment}/{parent}"},
                ],
                "volumeMounts": [{"name": VOLUME, "mountPath": _SEED_ROOT}],
            }
            others = [c for c in pod_spec.get("initContainers") or [] if c.get("name") != seed["name"]]
            pod_spec["initContainers"] = [seed, *others]


def _pod_specs(node: Any) -> Iterator[dict[str, Any]]:
    """Every pod spec (a mapping with a `containers` list) inside the workload, whatever its kind."""
    if isinstance(node, dict):
        if isinstance(node.get("containers"), list):
            yield node
            return
        for value in node.values():
            yield from _pod_specs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _pod_specs(item)
