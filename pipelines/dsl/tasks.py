"""A task: one use of a component inside a pipeline, with its arguments and execution settings.

Calling a component inside a pipeline function creates a `PipelineTask` (KFP v1 called it a `ContainerOp`);
its `.output` / `.outputs[...]` are channels that later tasks take as arguments. The setters
(`set_display_name`, `set_gpu_limit`, `set_memory_limit`, `set_cpu_limit`, `set_retry`, `set_timeout`,
`set_caching_options`, `set_env_variable`, `after`) return the task so calls chain, as in KFP. Settings
are checked when set, so a bad value fails at the line that wrote it. `dsl.ContainerOp` is here too: a task
whose component is built from an image, a command and `file_outputs`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pipelines.compiler.ir import (
    CachingOptions,
    ComponentSpec,
    ContainerImplementation,
    InputSpec,
    OutputSpec,
    Resources,
    RetryPolicy,
    SidecarSpec,
    UserContainerSpec,
    placeholder,
)
from pipelines.dsl.channels import (
    TOKEN_PATTERN,
    Channel,
    CollectedChannel,
    LoopItemChannel,
    PipelineInputChannel,
    TaskOutputChannel,
    ref_from_token,
    value_ref,
)
from pipelines.dsl.context import current_context
from pipelines.dsl.sidecars import Sidecar, UserContainer
from pipelines.quantities import parse_duration
from tuner.quantities import parse_cpu, parse_memory


class TaskOutputs(Mapping[str, TaskOutputChannel]):
    """`task.outputs`: a read-only mapping that also accepts a Python parameter's name (`model_path`)."""

    def __init__(self, task: PipelineTask) -> None:
        self._task = task

    def __getitem__(self, name: str) -> TaskOutputChannel:
        found = self._task.component_spec.output_by_name(name)
        if found is None:
            known = ", ".join(self._task.component_spec.outputs) or "none"
            raise KeyError(f"task {self._task.name} has no output {name!r}; its outputs: {known}")
        key, spec = found
        return TaskOutputChannel(self._task.name, key, spec.type)

    def __iter__(self) -> Iterator[str]:
        return iter(self._task.component_spec.outputs)

    def __len__(self) -> int:
        return len(self._task.component_spec.outputs)


class _CachingStrategy:
    """KFP v1's `task.execution_options.caching_strategy.max_cache_staleness = "P0D"`."""

    def __init__(self, task: PipelineTask) -> None:
        self._task = task

    @property
    def max_cache_staleness(self) -> str | None:
        seconds = self._task.caching.max_staleness_seconds
        return None if seconds is None else f"PT{seconds:g}S"

    @max_cache_staleness.setter
    def max_cache_staleness(self, value: str | None) -> None:
        seconds = None if value is None else _checked(parse_duration, value, "max_cache_staleness")
        self._task.caching = self._task.caching.model_copy(update={"max_staleness_seconds": seconds})


class _ExecutionOptions:
    def __init__(self, task: PipelineTask) -> None:
        self.caching_strategy = _CachingStrategy(task)


class PipelineTask:
    """One step of the pipeline being recorded."""

    def __init__(
        self, component_spec: ComponentSpec, arguments: Mapping[str, Any], base_name: str | None = None
    ) -> None:
        ctx = current_context()
        self.component_spec = component_spec
        self.arguments: dict[str, dict[str, Any]] = {}
        for key, value in arguments.items():
            try:
                self.arguments[key] = value_ref(value)
            except TypeError as exc:
                raise TypeError(f"{component_spec.name}: argument {key!r}: {exc}") from None
        self.name = ctx.add_task(self, base_name or component_spec.name)
        self.group = ctx.current_group
        self.display_name: str | None = None
        self.resources = Resources()
        self.retry: RetryPolicy | None = None
        self.timeout_seconds: float | None = None
        self.caching = CachingOptions()
        self.env: dict[str, str] = {}
        self.dependencies: list[str] = []
        self.annotations: dict[str, str] = {}
        self.pvolumes: dict[str, Any] = {}
        self.sidecars: list[SidecarSpec] = []
        self.init_containers: list[UserContainerSpec] = []
        self.execution_options = _ExecutionOptions(self)

    def __repr__(self) -> str:
        return f"<PipelineTask {self.name}>"

    # --- outputs ---------------------------------------------------------------------------------------

    @property
    def outputs(self) -> TaskOutputs:
        """Every output by name."""
        return TaskOutputs(self)

    @property
    def output(self) -> TaskOutputChannel:
        """The only output.

        Raises:
            AttributeError: the task has no output or several (use `.outputs[name]`).
        """
        names = list(self.component_spec.outputs)
        if len(names) != 1:
            detail = (
                "no outputs"
                if not names
                else f"{len(names)} outputs ({', '.join(names)}); use .outputs[name]"
            )
            raise AttributeError(
                f"task {self.name} has {detail}"
                + (
                    "; a Python component has an output only when the function has a return annotation"
                    if not names
                    else ""
                )
            )
        return self.outputs[names[0]]

    @property
    def container(self) -> PipelineTask:
        """KFP v1 `task.container.set_memory_limit(...)`: the resource setters live on the task itself."""
        return self

    # --- settings --------------------------------------------------------------------------------------

    def set_display_name(self, name: str) -> PipelineTask:
        """The name shown in progress lines and summaries (the task keeps its identifier)."""
        self.display_name = str(name)
        return self

    def set_cpu_limit(self, cpu: str | float) -> PipelineTask:
        """At most this many cores ("500m", "2"); the local runner budgets the machine's cores with it."""
        _checked(parse_cpu, cpu, "set_cpu_limit")
        self.resources = self.resources.model_copy(update={"cpu_limit": str(cpu)})
        return self

    def set_cpu_request(self, cpu: str | float) -> PipelineTask:
        """Cores to reserve ("500m", "2")."""
        _checked(parse_cpu, cpu, "set_cpu_request")
        self.resources = self.resources.model_copy(update={"cpu_request": str(cpu)})
        return self

    def set_memory_limit(self, memory: str | int) -> PipelineTask:
        """At most this much memory ("1G", "512Mi"); the local runner budgets the machine's memory with it."""
        _checked(parse_memory, memory, "set_memory_limit")
        self.resources = self.resources.model_copy(update={"memory_limit": str(memory)})
        return self

    def set_memory_request(self, memory: str | int) -> PipelineTask:
        """Memory to reserve ("1G", "512Mi")."""
        _checked(parse_memory, memory, "set_memory_request")
        self.resources = self.resources.model_copy(update={"memory_request": str(memory)})
        return self

    def set_gpu_limit(self, gpu: str | int, vendor: str = "nvidia") -> PipelineTask:
        """GPUs for the task; recorded, and warned about when the machine has none."""
        count = _positive_int(gpu, "set_gpu_limit")
        self.resources = self.resources.model_copy(
            update={
                "accelerator_limit": count,
                "accelerator_type": self.resources.accelerator_type or f"{vendor}.com/gpu",
            }
        )
        return self

    def set_accelerator_type(self, accelerator: str) -> PipelineTask:
        """KFP v2: the accelerator kind (e.g. "nvidia.com/gpu")."""
        self.resources = self.resources.model_copy(update={"accelerator_type": str(accelerator)})
        return self

    def set_accelerator_limit(self, limit: str | int) -> PipelineTask:
        """KFP v2: how many accelerators."""
        count = _positive_int(limit, "set_accelerator_limit")
        self.resources = self.resources.model_copy(update={"accelerator_limit": count})
        return self

    def set_retry(
        self,
        num_retries: int,
        policy: str | None = None,
        backoff_duration: str | float | None = None,
        backoff_factor: float | None = None,
        backoff_max_duration: str | float | None = None,
    ) -> PipelineTask:
        """Retry a failed attempt up to `num_retries` times, waiting `backoff_duration * factor**(n-1)`."""
        if isinstance(num_retries, bool) or not isinstance(num_retries, int) or num_retries < 0:
            raise ValueError(f"set_retry: num_retries must be an integer >= 0, got {num_retries!r}")
        if policy is not None and policy not in ("Always", "OnFailure", "OnError", "OnTransientError"):
            raise ValueError(
                f"set_retry: policy must be Always, OnFailure, OnError or OnTransientError, got {policy!r}"
            )
        if backoff_factor is not None and backoff_factor < 1:
            raise ValueError(f"set_retry: backoff_factor must be >= 1, got {backoff_factor!r}")
        values: dict[str, Any] = {"max_retries": num_retries, "policy": policy}
        if backoff_duration is not None:
            values["backoff_duration"] = _checked(
                parse_duration, backoff_duration, "set_retry: backoff_duration"
            )
        if backoff_factor is not None:
            values["backoff_factor"] = float(backoff_factor)
        if backoff_max_duration is not None:
            values["backoff_max_duration"] = _checked(
                parse_duration, backoff_max_duration, "set_retry: backoff_max_duration"
            )
        self.retry = RetryPolicy(**values)
        return self

    def set_timeout(self, seconds: str | float) -> PipelineTask:
        """Fail an attempt that runs longer than this (seconds or "10m")."""
        timeout = _checked(parse_duration, seconds, "set_timeout")
        if timeout <= 0:
            raise ValueError(f"set_timeout: the timeout must be positive, got {seconds!r}")
        self.timeout_seconds = timeout
        return self

    def set_caching_options(self, enable_caching: bool, cache_key: str | None = None) -> PipelineTask:
        """Switch caching off for this task, or give a custom key that replaces the inputs part."""
        self.caching = self.caching.model_copy(update={"enabled": bool(enable_caching), "key": cache_key})
        return self

    def set_env_variable(self, name: str, value: str) -> PipelineTask:
        """An environment variable for the task's process."""
        self.env[str(name)] = str(value)
        return self

    def add_env_variable(self, env_variable: Any) -> PipelineTask:
        """KFP v1: takes an object with `.name` and `.value` (e.g. kubernetes' V1EnvVar)."""
        return self.set_env_variable(env_variable.name, env_variable.value)

    def add_pod_annotation(self, name: str, value: str) -> PipelineTask:
        """Recorded and carried to the Argo output; no effect locally."""
        self.annotations[str(name)] = str(value)
        return self

    def add_sidecar(self, sidecar: Sidecar) -> PipelineTask:
        """KFP v1: a container beside this task's in its pod; on Argo only (see `pipelines.dsl.sidecars`)."""
        if not isinstance(sidecar, Sidecar):
            raise TypeError(f"{self.name}.add_sidecar: needs a dsl.Sidecar, got {sidecar!r}")
        if any(existing.name == sidecar.name for existing in self.sidecars):
            raise ValueError(f"{self.name}.add_sidecar: a sidecar named {sidecar.name!r} is already added")
        self.sidecars.append(sidecar.spec())
        return self

    def add_init_container(self, init_container: UserContainer) -> PipelineTask:
        """KFP v1: a container that runs to completion before this task's own (see `pipelines.dsl.sidecars`)."""
        if not isinstance(init_container, UserContainer):
            raise TypeError(
                f"{self.name}.add_init_container: needs a dsl.UserContainer, got {init_container!r}"
            )
        if any(existing.name == init_container.name for existing in self.init_containers):
            raise ValueError(
                f"{self.name}.add_init_container: an init container named {init_container.name!r} is already added"
            )
        spec = init_container.spec()
        self.init_containers.append(UserContainerSpec(**spec.model_dump()))
        return self

    def add_pod_label(self, name: str, value: str) -> PipelineTask:
        """Recorded as an annotation; no effect locally."""
        return self.add_pod_annotation(name, value)

    def after(self, *tasks: PipelineTask) -> PipelineTask:
        """Run only after these tasks have finished (even without a data dependency)."""
        for task in tasks:
            inner = getattr(task, "tasks", None)  # a pipeline used as a component: wait for all its tasks
            if inner is not None and not isinstance(task, PipelineTask):
                self.after(*inner)
                continue
            if not isinstance(task, PipelineTask):
                raise TypeError(f"{self.name}.after() takes tasks, got {task!r}")
            if task.name not in self.dependencies:
                self.dependencies.append(task.name)
        return self

    def add_pvolumes(self, pvolumes: Mapping[str, Any]) -> PipelineTask:
        """KFP v1: mount volumes (`{"/mnt": vop.volume}`) into a container step; see `pipelines.dsl.volumes`."""
        container = self.component_spec.container
        if container is None:
            raise TypeError(
                f"{self.name}: volumes can be mounted into container steps only (a Python component's paths "
                "cannot be moved to the volume's folder); pass data as InputPath/OutputPath instead"
            )
        inputs = dict(self.component_spec.inputs)
        mounts = dict(container.volume_mounts)
        for mount, volume in pvolumes.items():
            if not isinstance(mount, str) or not mount.startswith("/"):
                raise ValueError(f"{self.name}.add_pvolumes: the mount path must be absolute, got {mount!r}")
            if not hasattr(volume, "pvc"):
                raise TypeError(
                    f"{self.name}.add_pvolumes: {mount!r} needs a dsl.PipelineVolume, got {volume!r}"
                )
            key = "pvolume_" + "".join(c if c.isalnum() else "_" for c in mount.strip("/"))
            inputs[key] = InputSpec(type="str")
            self.arguments[key] = value_ref(volume.pvc)
            mounts[mount] = key
            self.pvolumes[mount] = volume
            self.after(*volume.dependencies)
        self.component_spec = self.component_spec.model_copy(
            update={"inputs": inputs, "container": container.model_copy(update={"volume_mounts": mounts})}
        )
        return self

    @property
    def pvolume(self) -> Any:
        """KFP v1: the one volume this step mounts, as a volume that waits for this step."""
        if len(self.pvolumes) != 1:
            raise AttributeError(
                f"{self.name} mounts {len(self.pvolumes)} volumes; use .pvolumes[mount_path]"
            )
        return next(iter(self.pvolumes.values())).after(self)

    def apply(self, modifier: Any) -> PipelineTask:
        """KFP v1: `task.apply(fn)` calls `fn(task)`."""
        result = modifier(self)
        return result if isinstance(result, PipelineTask) else self


class ContainerOp(PipelineTask):
    """KFP v1 `dsl.ContainerOp`: run `command + arguments` in `image`, with `file_outputs` as outputs.

    Locally the command runs on this machine (the image is recorded, not used). Every path named in
    `file_outputs` is rewritten, wherever it occurs in the command and arguments, to a file private to
    the task, so two tasks writing `/tmp/results.txt` do not clobber each other. Each output's value is the
    file's text, and the file is stored as an artifact.
    """

    def __init__(
        self,
        name: str,
        image: str,
        command: str | list[Any] | None = None,
        arguments: list[Any] | None = None,
        file_outputs: Mapping[str, str] | None = None,
        output_artifact_paths: Mapping[str, str] | None = None,
        pvolumes: Mapping[str, Any] | None = None,
        sidecars: list[Sidecar] | None = None,
        init_containers: list[UserContainer] | None = None,
        **unsupported: Any,
    ) -> None:
        if unsupported:
            raise TypeError(
                f"ContainerOp {name!r}: {', '.join(sorted(unsupported))} not supported by the local runner; "
                "supported: name, image, command, arguments, file_outputs, output_artifact_paths, pvolumes, "
                "sidecars, init_containers"
            )
        outputs = dict(file_outputs or {})
        outputs.update(output_artifact_paths or {})
        inputs: dict[str, InputSpec] = {}
        bindings: dict[str, Any] = {}
        command_list = [command] if isinstance(command, str) else list(command or [])
        rendered_command = [_container_arg(item, inputs, bindings) for item in command_list]
        rendered_args = [_container_arg(item, inputs, bindings) for item in (arguments or [])]
        spec = ComponentSpec(
            name=name,
            inputs=inputs,
            outputs={key: OutputSpec(type="str", passing="path") for key in outputs},
            container=ContainerImplementation(
                image=image, command=rendered_command, args=rendered_args, file_outputs=outputs
            ),
        )
        super().__init__(spec, bindings, base_name=name)
        self.image = image
        if pvolumes:
            self.add_pvolumes(pvolumes)
        for sidecar in sidecars or []:
            self.add_sidecar(sidecar)
        for init_container in init_containers or []:
            self.add_init_container(init_container)


def _container_arg(item: Any, inputs: dict[str, InputSpec], bindings: dict[str, Any]) -> str:
    """Turn one command/argument item into a string whose channel tokens name component inputs."""
    if isinstance(item, CollectedChannel):
        raise TypeError(
            "dsl.Collected(...) cannot be used in a ContainerOp command; pass it to a Python component"
        )
    if isinstance(item, Channel):
        return placeholder(f"inputs.{_bind(item, inputs, bindings)}")
    if not isinstance(item, str):
        if isinstance(item, (list, dict)):
            import json

            return json.dumps(item)
        return str(item)

    def replace(match: Any) -> str:
        channel = _channel_for(ref_from_token(match))
        return placeholder(f"inputs.{_bind(channel, inputs, bindings)}")

    return TOKEN_PATTERN.sub(replace, item)


def _channel_for(ref: dict[str, Any]) -> Channel:
    if "input" in ref:
        return PipelineInputChannel(ref["input"], None)
    if "task" in ref:
        return TaskOutputChannel(ref["task"], ref["output"], None)
    return LoopItemChannel(ref["loopItem"], ref.get("field"))


def _bind(channel: Channel, inputs: dict[str, InputSpec], bindings: dict[str, Any]) -> str:
    """A component input for a channel (one per distinct channel), named after where the value comes from."""
    if isinstance(channel, PipelineInputChannel):
        base = channel.name
    elif isinstance(channel, TaskOutputChannel):
        base = f"{channel.task_name}_{channel.name}"
    elif isinstance(channel, LoopItemChannel):
        base = f"{channel.group}_item" + (f"_{channel.field}" if channel.field else "")
    else:  # pragma: no cover - Collected is refused earlier
        raise TypeError(f"cannot use {channel!r} in a ContainerOp")
    name = "".join(c if c.isalnum() or c == "_" else "_" for c in base)
    if name[0].isdigit():
        name = f"_{name}"
    for existing, bound in bindings.items():
        if existing.startswith(name) and value_ref(bound) == channel.ref():
            return existing
    unique, n = name, 1
    while unique in inputs:
        n += 1
        unique = f"{name}_{n}"
    inputs[unique] = InputSpec(type="str")
    bindings[unique] = channel
    return unique


def _checked(parse: Any, value: Any, where: str) -> Any:
    try:
        return parse(value)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def _positive_int(value: str | int, where: str) -> int:
    try:
        count = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: expected a whole number, got {value!r}") from None
    if count < 0:
        raise ValueError(f"{where}: expected a number >= 0, got {value!r}")
    return count
