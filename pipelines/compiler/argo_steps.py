"""Container templates of the Argo target: one per task, running a Python component through the same
executor the local runner uses, or a container step's command with its `file_outputs`.

Used by `pipelines.compiler.argo`, which builds the DAG templates around these.
"""

from __future__ import annotations

import json
import math
import shlex
from collections.abc import Callable
from typing import Any

from pipelines.compiler.ir import (
    TOKEN_PATTERN,
    ComponentSpec,
    PipelineSpec,
    UserContainerSpec,
    ValueRef,
    placeholder,
)
from pipelines.runner.executor import render

DEFAULT_IMAGE = "python:3.11"
INPUTS_DIR = "/tmp/inputs"
OUTPUTS_DIR = "/tmp/outputs"


def pack(parameters: list[dict[str, Any]], artifacts: list[dict[str, Any]]) -> dict[str, Any]:
    """An Argo `inputs`/`outputs`/`arguments` block, without empty lists."""
    packed: dict[str, Any] = {}
    if parameters:
        packed["parameters"] = parameters
    if artifacts:
        packed["artifacts"] = artifacts
    return packed


class StepTemplates:
    """Builds task templates; `exit_value` renders an exit task's fixed arguments, `file_params` lists the
    (task, output) file outputs that must also be exported as parameters."""

    def __init__(
        self,
        spec: PipelineSpec,
        exits: dict[str, str],
        file_params: set[tuple[str, str]],
        exit_value: Callable[[ValueRef, str, str], str],
    ) -> None:
        self.spec = spec
        self.exits = exits
        self.file_params = file_params
        self.exit_value = exit_value

    def template(self, name: str) -> dict[str, Any]:
        """The container template of task `name`."""
        task = self.spec.tasks[name]
        component = self.spec.components[task.component]
        template: dict[str, Any] = {"name": name}
        if component.volume is not None:
            return self._volume(name, component)
        if component.resource is not None:
            return self._resource(name, component)
        metadata = self._metadata(name)
        if metadata:
            template["metadata"] = metadata
        inputs, outputs, container = (
            self._python(name, component)
            if component.python is not None
            else self._container(name, component)
        )
        if inputs:
            template["inputs"] = inputs
        if outputs:
            template["outputs"] = outputs
        if task.env:
            container["env"] = [{"name": k, "value": v} for k, v in task.env.items()]
        resources = self._resources(name)
        if resources:
            container["resources"] = resources
        template["container"] = container
        mounts = component.container.volume_mounts if component.container is not None else {}
        if mounts:  # KFP v1 pvolumes: each claim mounted where the step expects it
            container["volumeMounts"] = [
                {"name": key.replace("_", "-"), "mountPath": mount} for mount, key in mounts.items()
            ]
            template["volumes"] = [
                {
                    "name": key.replace("_", "-"),
                    "persistentVolumeClaim": {"claimName": placeholder(f"inputs.parameters.{key}")},
                }
                for key in mounts.values()
            ]
        if task.init_containers:  # KFP v1 dsl.UserContainer: run to completion before the step's container
            template["initContainers"] = [_sidecar(c) for c in task.init_containers]
        if task.sidecars:  # KFP v1 dsl.Sidecar: containers beside the step's in its pod
            template["sidecars"] = [_sidecar(sidecar) for sidecar in task.sidecars]
        if task.retry is not None:
            template["retryStrategy"] = {
                "limit": task.retry.max_retries,
                "retryPolicy": task.retry.policy or "Always",
                "backoff": {
                    "duration": f"{task.retry.backoff_duration:g}s",
                    "factor": int(task.retry.backoff_factor)
                    if task.retry.backoff_factor.is_integer()
                    else f"{task.retry.backoff_factor:g}",
                    "maxDuration": f"{task.retry.backoff_max_duration:g}s",
                },
            }
        if task.timeout_seconds is not None:
            template["activeDeadlineSeconds"] = math.ceil(task.timeout_seconds)
        return template

    def _resource(self, name: str, component: ComponentSpec) -> dict[str, Any]:
        """A ResourceOp: an Argo resource template, its outputs JSONPath reads of the object."""
        resource = component.resource
        assert resource is not None
        body: dict[str, Any] = {
            "action": resource.action,
            "manifest": json.dumps(resource.manifest, indent=2),
        }
        if resource.merge_strategy:
            body["mergeStrategy"] = resource.merge_strategy
        if resource.success_condition:
            body["successCondition"] = resource.success_condition
        if resource.failure_condition:
            body["failureCondition"] = resource.failure_condition
        if resource.set_owner_reference is not None:
            body["setOwnerReference"] = resource.set_owner_reference
        if resource.flags:
            body["flags"] = list(resource.flags)
        template: dict[str, Any] = {"name": name, "resource": body}
        if resource.output_paths:
            template["outputs"] = {
                "parameters": [
                    {"name": key, "valueFrom": {"jsonPath": path}}
                    for key, path in resource.output_paths.items()
                ]
            }
        return template

    def _volume(self, name: str, component: ComponentSpec) -> dict[str, Any]:
        """A VolumeOp: a resource template creating a PersistentVolumeClaim, as KFP v1 compiled it."""
        volume = component.volume
        assert volume is not None
        claim: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "{{workflow.name}}-" + volume.resource_name},
            "spec": {"accessModes": list(volume.modes)},
        }
        if volume.size:
            size = volume.size.replace(placeholder("inputs.size"), placeholder("inputs.parameters.size"))
            claim["spec"]["resources"] = {"requests": {"storage": size}}
        if volume.storage_class:
            claim["spec"]["storageClassName"] = volume.storage_class
        template: dict[str, Any] = {"name": name}
        if component.inputs:
            template["inputs"] = {"parameters": [{"name": key} for key in component.inputs]}
        return {
            **template,
            "resource": {"action": "create", "manifest": json.dumps(claim, indent=2)},
            "outputs": {
                "parameters": [
                    {"name": "name", "valueFrom": {"jsonPath": "{.metadata.name}"}},
                    {"name": "size", "valueFrom": {"jsonPath": "{.status.capacity.storage}"}},
                ]
            },
        }

    def _metadata(self, name: str) -> dict[str, Any]:
        task = self.spec.tasks[name]
        annotations: dict[str, str] = {}
        if task.display_name:
            annotations["pipelines.kubeflow.org/task_display_name"] = task.display_name
        if not task.caching.enabled:
            annotations["pipelines.kubeflow.org/max_cache_staleness"] = "P0D"
        return {"annotations": annotations} if annotations else {}

    def _resources(self, name: str) -> dict[str, Any]:
        res = self.spec.tasks[name].resources
        if res is None:
            return {}
        limits: dict[str, str] = {}
        requests: dict[str, str] = {}
        if res.cpu_limit:
            limits["cpu"] = res.cpu_limit
        if res.memory_limit:
            limits["memory"] = res.memory_limit
        if res.accelerator_limit:
            limits[res.accelerator_type or "nvidia.com/gpu"] = str(res.accelerator_limit)
        if res.cpu_request:
            requests["cpu"] = res.cpu_request
        if res.memory_request:
            requests["memory"] = res.memory_request
        out: dict[str, Any] = {}
        if limits:
            out["limits"] = limits
        if requests:
            out["requests"] = requests
        return out

    def _python(
        self, name: str, component: ComponentSpec
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        from pipelines.runner.processes import executor_source

        python = component.python
        assert python is not None
        task = self.spec.tasks[name]
        is_exit = name in self.exits
        in_params: list[dict[str, Any]] = []
        in_artifacts: list[dict[str, Any]] = []
        args: list[str] = []
        spec_doc: dict[str, Any] = {"source": python.source, "function": python.function_name, "types": {}}
        paths: dict[str, str] = {}
        artifacts: dict[str, Any] = {}
        final: dict[str, Any] = {}
        open_files: dict[str, str] = {}
        for key, spec in component.inputs.items():
            if spec.open_as:
                open_files[spec.param or key] = spec.open_as
        for key, out in component.outputs.items():
            if out.open_as:
                open_files[out.param or key] = out.open_as
        for key, spec_in in component.inputs.items():
            param = spec_in.param or key
            if spec_in.passing == "finalStatus":
                final[param] = {
                    "state": "{{workflow.status}}",
                    "pipeline_job_resource_name": "{{workflow.name}}",
                }
                continue
            if key not in task.arguments:
                continue
            if spec_in.passing == "value":
                entry: dict[str, Any] = {"name": key}
                if is_exit:
                    entry["value"] = self.exit_value(task.arguments[key], name, key)
                in_params.append(entry)
                spec_doc["types"][param] = spec_in.type
                args += ["--param", f"{param}=" + placeholder(f"inputs.parameters.{key}")]
            else:
                path = f"{INPUTS_DIR}/{key}/data"
                entry = {"name": key, "path": path}
                if is_exit:
                    entry["raw"] = {"data": self.exit_value(task.arguments[key], name, key)}
                in_artifacts.append(entry)
                if spec_in.passing == "path":
                    paths[param] = path
                else:
                    artifacts[param] = {"name": key, "path": path, "direction": "input"}
        out_params: list[dict[str, Any]] = []
        out_artifacts: list[dict[str, Any]] = []
        value_outputs: list[dict[str, Any]] = []
        output_files: dict[str, str] = {}
        for key, spec_out in component.outputs.items():
            path = f"{OUTPUTS_DIR}/{key}/data"
            if spec_out.passing == "value":
                value_outputs.append({"name": key, "type": spec_out.type})
                output_files[key] = path
                out_params.append({"name": key, "valueFrom": {"path": path}})
            else:
                param = spec_out.param or key
                if spec_out.passing == "path":
                    paths[param] = path
                else:
                    artifacts[param] = {"name": key, "path": path, "direction": "output"}
                out_artifacts.append({"name": key, "path": path})
                if (name, key) in self.file_params:
                    out_params.append({"name": key, "valueFrom": {"path": path}})
        spec_doc.update(
            {
                "paths": paths,
                "openFiles": open_files,
                "artifacts": artifacts,
                "finalStatus": final,
                "outputs": value_outputs,
                "outputFiles": output_files,
            }
        )
        spec_doc["env"] = {}
        command = ["python3", "-u", "-c", executor_source()]
        if python.packages_to_install:
            packages = " ".join(shlex.quote(p) for p in python.packages_to_install)
            command = [
                "sh",
                "-c",
                f'python3 -m pip install --quiet --no-warn-script-location {packages} && exec python3 -u -c "$0" "$@"',
                executor_source(),
            ]
        container = {
            "image": python.base_image or DEFAULT_IMAGE,
            "command": command,
            "args": ["--spec", json.dumps(spec_doc, sort_keys=True), *args],
        }
        return pack(in_params, in_artifacts), pack(out_params, out_artifacts), container

    def _container(
        self, name: str, component: ComponentSpec
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        container_spec = component.container
        assert container_spec is not None

        def token(match: Any) -> str:
            name = match.group("input")
            if not name:
                return match.group(0)
            if component.inputs[name].passing in ("path", "artifact"):
                return f"{INPUTS_DIR}/{name}/data"  # the input artifact's file
            return placeholder(f"inputs.parameters.{name}")

        def argo(text: str) -> str:
            return TOKEN_PATTERN.sub(token, text)

        given = self.spec.tasks[name].arguments
        # An optional input the task leaves out still gets a value (its default), as Argo requires one.
        in_params = [
            {"name": key} if key in given else {"name": key, "value": render(s.default)}
            for key, s in component.inputs.items()
            if s.passing == "value"
        ]
        in_artifacts = [
            {"name": key, "path": f"{INPUTS_DIR}/{key}/data"}
            for key, s in component.inputs.items()
            if s.passing in ("path", "artifact") and key in given
        ]
        out_params = [{"name": k, "valueFrom": {"path": p}} for k, p in container_spec.file_outputs.items()]
        out_artifacts = [{"name": k, "path": p} for k, p in container_spec.file_outputs.items()]
        container: dict[str, Any] = {"image": container_spec.image}
        if container_spec.command:
            container["command"] = [argo(c) for c in container_spec.command]
        if container_spec.args:
            container["args"] = [argo(a) for a in container_spec.args]
        return pack(in_params, in_artifacts), pack(out_params, out_artifacts), container


def _sidecar(sidecar: UserContainerSpec) -> dict[str, Any]:
    container: dict[str, Any] = {"name": sidecar.name, "image": sidecar.image}
    if sidecar.command:
        container["command"] = list(sidecar.command)
    if sidecar.args:
        container["args"] = list(sidecar.args)
    if sidecar.mirror_volume_mounts:
        container["mirrorVolumeMounts"] = True
    return container
