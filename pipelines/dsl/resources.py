"""KFP v1 `dsl.ResourceOp`: a step that creates, applies, patches, gets, replaces or deletes a Kubernetes
object from a manifest, optionally waiting for `success_condition` / `failure_condition`, with outputs
read from the object by JSONPath (`name` and `manifest` always, plus `attribute_outputs`).

It compiles to an Argo resource template. The local runner refuses it when the run reaches it (the task
fails saying it needs a cluster): there is no Kubernetes API here to apply the manifest to.
"""

from __future__ import annotations

import json
from typing import Any, get_args

from pipelines.compiler.ir import ComponentSpec, OutputSpec, ResourceImplementation
from pipelines.dsl.tasks import PipelineTask

_ACTIONS = ("create", "delete", "apply", "get", "replace", "patch")
_MERGE_STRATEGIES = get_args(ResourceImplementation.model_fields["merge_strategy"].annotation)


def _manifest(name: str, k8s_resource: Any) -> dict[str, Any]:
    """The manifest as plain JSON: a dict, or a Kubernetes client object (`to_dict()`)."""
    if hasattr(k8s_resource, "to_dict"):
        k8s_resource = k8s_resource.to_dict()
    if not isinstance(k8s_resource, dict) or not k8s_resource:
        raise TypeError(
            f"ResourceOp {name!r}: k8s_resource must be a manifest (a dict with apiVersion, kind, "
            f"metadata), got {k8s_resource!r}"
        )
    try:
        plain: dict[str, Any] = json.loads(json.dumps(k8s_resource))
    except TypeError as exc:
        raise TypeError(
            f"ResourceOp {name!r}: k8s_resource must hold plain values ({exc}); "
            "pipeline parameters inside a manifest are not supported"
        ) from None
    return plain


class ResourceOp(PipelineTask):
    """KFP v1 `dsl.ResourceOp(name, k8s_resource, action="create", ...)`; see the module docstring."""

    def __init__(
        self,
        name: str,
        k8s_resource: Any = None,
        action: str = "create",
        merge_strategy: str | None = None,
        success_condition: str | None = None,
        failure_condition: str | None = None,
        set_owner_reference: bool | None = None,
        attribute_outputs: dict[str, str] | None = None,
        flags: list[str] | None = None,
        **unsupported: Any,
    ) -> None:
        if unsupported:
            raise TypeError(f"ResourceOp {name!r}: {', '.join(sorted(unsupported))} not supported")
        if action not in _ACTIONS:
            raise ValueError(f"ResourceOp {name!r}: action {action!r} is not one of {', '.join(_ACTIONS)}")
        if merge_strategy is not None and action != "patch":
            raise ValueError(f"ResourceOp {name!r}: merge_strategy is for action='patch' only")
        if merge_strategy is not None and merge_strategy not in _MERGE_STRATEGIES:
            raise ValueError(
                f"ResourceOp {name!r}: merge_strategy {merge_strategy!r} is not one of "
                f"{', '.join(str(m) for m in _MERGE_STRATEGIES if m is not None)}"
            )
        manifest = _manifest(name, k8s_resource)
        paths: dict[str, str] = {}
        if action != "delete":  # as KFP v1: a deleted object has nothing to read
            paths = {"manifest": "{}", "name": "{.metadata.name}", **(attribute_outputs or {})}
        elif attribute_outputs:
            raise ValueError(f"ResourceOp {name!r}: attribute_outputs cannot be read after action='delete'")
        if action == "delete" and flags is None:
            flags = ["--wait=false"]  # as KFP v1: do not block on finalizers
        spec = ComponentSpec(
            name=name,
            outputs={key: OutputSpec(type="str") for key in paths},
            resource=ResourceImplementation(
                action=action,  # type: ignore[arg-type]  # checked against _ACTIONS above
                manifest=manifest,
                merge_strategy=merge_strategy,  # type: ignore[arg-type]
                success_condition=success_condition,
                failure_condition=failure_condition,
                set_owner_reference=set_owner_reference,
                flags=[str(flag) for flag in flags or []],
                output_paths=paths,
            ),
        )
        super().__init__(spec, {}, base_name=name)
        self.k8s_resource = manifest
        self.attribute_outputs = paths
        self.resource = spec.resource
