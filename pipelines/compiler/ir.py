"""The pipeline IR: what `Compiler().compile` writes, what the local runner and the Argo target read.

One YAML document, versioned by `schemaVersion`. It holds everything needed to run the pipeline again
without the Python file: each component's interface and implementation (a Python function's source, or a
container command), each task's arguments as references (`{value: 4}`, `{input: a}`,
`{task: add-op, output: Output}`, `{template: "heads and {{tasks.x.outputs.Output}}"}`, `{loopItem: ...}`,
`{collected: ...}`), and the groups that wrap tasks (conditions, exit handlers, loops) as a flat table
with parent links. Serialisation is deterministic: insertion order is definition order, no timestamps, no
host paths, defaults left out.

The DSL builds these models; `pipelines.compiler.build` checks references across them; nothing here runs.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

SCHEMA_VERSION: Literal["tuner.dev/pipelines/v1"] = "tuner.dev/pipelines/v1"

# Tokens inside template strings and container args; a DSL channel prints as one of these.
TOKEN_PATTERN = re.compile(
    r"\{\{("
    r"inputs\.(?P<input>[A-Za-z_][A-Za-z0-9_]*)"
    r"|tasks\.(?P<task>[a-z0-9][a-z0-9-]*)\.outputs\.(?P<output>[A-Za-z0-9_][A-Za-z0-9_.-]*)"
    r"|loops\.(?P<loop>[a-z0-9][a-z0-9-]*)\.item(?:\.(?P<field>[A-Za-z_][A-Za-z0-9_]*))?"
    r")\}\}"
)


def placeholder(expression: str) -> str:
    """`{{expression}}`: a token of the IR, or an Argo expression."""
    return "{{" + expression + "}}"


def ref_from_token(match: re.Match[str]) -> dict[str, Any]:
    """The IR reference a token stands for."""
    if match.group("input"):
        return {"input": match.group("input")}
    if match.group("task"):
        return {"task": match.group("task"), "output": match.group("output")}
    ref: dict[str, Any] = {"loopItem": match.group("loop")}
    if match.group("field"):
        ref["field"] = match.group("field")
    return ref


PassingMode = Literal["value", "path", "artifact", "finalStatus"]
GroupKind = Literal["condition", "exitHandler", "parallelFor", "subGraph", "graph"]
CompareOp = Literal["==", "!=", "<", "<=", ">", ">="]


class IRModel(BaseModel):
    """Base: camelCase in YAML, snake_case in Python, unknown keys refused."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


# --- value references -------------------------------------------------------------------------------


class ConstRef(IRModel):
    """A literal JSON value."""

    value: Any


class InputRef(IRModel):
    """A pipeline parameter."""

    input: str


class TaskOutputRef(IRModel):
    """One output of another task."""

    task: str
    output: str


class LoopItemRef(IRModel):
    """The current item of a `parallelFor` group, or one key of it."""

    loop_item: str
    field: str | None = None


class CollectedRef(IRModel):
    """The list of one output over every iteration of the loop that produced it."""

    collected: TaskOutputRef


class OneOfRef(IRModel):
    """KFP v2 `dsl.OneOf(...)`: the value of whichever branch ran (the first that produced one)."""

    one_of: list[ValueRef]


class TemplateRef(IRModel):
    """A string with `{{inputs.x}}`, `{{tasks.t.outputs.o}}` or `{{loops.g.item}}` tokens."""

    template: str


ValueRef = Union[ConstRef, InputRef, TaskOutputRef, LoopItemRef, CollectedRef, OneOfRef, TemplateRef]
OneOfRef.model_rebuild()


# --- conditions --------------------------------------------------------------------------------------


class CompareExpr(IRModel):
    """`left op right`, compared as numbers when both sides are numbers, else as strings."""

    op: CompareOp
    left: ValueRef
    right: ValueRef


class NotExpr(IRModel):
    """Negation."""

    not_: ConditionExpr = Field(alias="not")


class AllExpr(IRModel):
    """Conjunction."""

    all: list[ConditionExpr]


ConditionExpr = Annotated[Union[CompareExpr, NotExpr, AllExpr], Field(union_mode="smart")]
NotExpr.model_rebuild()
AllExpr.model_rebuild()


# --- components --------------------------------------------------------------------------------------


class InputSpec(IRModel):
    """One input of a component or of the pipeline.

    `type` is str/int/float/bool/list/dict, or absent for an untyped (KFP v1) input whose value is passed
    as given. `passing` says how the task receives it: a value, a local file path, or an artifact object.
    An `optional` input may be left out and then takes `default`.
    """

    type: str | None = None
    passing: PassingMode = "value"
    artifact: str | None = None
    optional: bool = False
    default: Any = None
    param: str | None = None  # the Python parameter's name when it differs (KFP v1 strips "_path")
    open_as: Literal["r", "rb"] | None = (
        None  # KFP v1 InputTextFile/InputBinaryFile: an open file, not a path
    )


class OutputSpec(IRModel):
    """One output: a returned value, a file written at a path, or an artifact object."""

    type: str | None = None
    passing: PassingMode = "value"
    artifact: str | None = None
    param: str | None = None
    open_as: Literal["w", "wb"] | None = None  # KFP v1 OutputTextFile/OutputBinaryFile: an open file


class PythonImplementation(IRModel):
    """A lightweight component: the function's source, run by the executor."""

    function_name: str
    source: str
    base_image: str | None = None
    packages_to_install: list[str] = Field(default_factory=list)


class ContainerImplementation(IRModel):
    """A container step: `command + args`, with `{{inputs.NAME}}` tokens and `file_outputs` paths."""

    image: str
    command: list[str] = Field(default_factory=list)
    args: list[str] = Field(default_factory=list)
    file_outputs: dict[str, str] = Field(default_factory=dict)
    # KFP v1 pvolumes: mount path -> the input holding the volume's claim name. Locally the path is
    # rewritten in the command line to the volume's folder; on Argo it is a PersistentVolumeClaim mount.
    volume_mounts: dict[str, str] = Field(default_factory=dict)


class VolumeImplementation(IRModel):
    """KFP v1 `dsl.VolumeOp`: creates a volume. Locally a folder (outputs `name` and `size`); on Argo a
    PersistentVolumeClaim created by a resource template."""

    resource_name: str
    size: str | None = None
    storage_class: str | None = None
    modes: list[str] = Field(default_factory=lambda: ["ReadWriteMany"])


class ResourceImplementation(IRModel):
    """KFP v1 `dsl.ResourceOp`: a Kubernetes manifest to create/apply/patch/... (an Argo resource
    template). Outputs are JSONPath reads of the resulting object. The local runner refuses it: applying
    manifests needs a cluster."""

    action: Literal["create", "delete", "apply", "get", "replace", "patch"] = "create"
    manifest: dict[str, Any]
    merge_strategy: Literal["json", "merge", "strategic"] | None = None
    success_condition: str | None = None
    failure_condition: str | None = None
    set_owner_reference: bool | None = None
    flags: list[str] = Field(default_factory=list)
    output_paths: dict[str, str] = Field(default_factory=dict)  # output name -> JSONPath


class ComponentSpec(IRModel):
    """A reusable step: its interface and one implementation."""

    name: str
    description: str | None = None
    inputs: dict[str, InputSpec] = Field(default_factory=dict)
    outputs: dict[str, OutputSpec] = Field(default_factory=dict)
    python: PythonImplementation | None = None
    container: ContainerImplementation | None = None
    volume: VolumeImplementation | None = None
    resource: ResourceImplementation | None = None

    def digest(self) -> str:
        """sha256 of the canonical JSON of the whole spec: the component part of every cache key."""
        return "sha256:" + hashlib.sha256(canonical_json(dump(self)).encode()).hexdigest()

    def input_by_name(self, name: str) -> tuple[str, InputSpec] | None:
        """Find an input by its IO name or by its Python parameter name."""
        if name in self.inputs:
            return name, self.inputs[name]
        for key, spec in self.inputs.items():
            if spec.param == name:
                return key, spec
        return None

    def output_by_name(self, name: str) -> tuple[str, OutputSpec] | None:
        """Find an output by its IO name or by its Python parameter name."""
        if name in self.outputs:
            return name, self.outputs[name]
        for key, spec in self.outputs.items():
            if spec.param == name:
                return key, spec
        return None


# --- tasks and groups ----------------------------------------------------------------------------------


class Resources(IRModel):
    """Requests and limits as written (Kubernetes quantities: "500m", "2", "1G", "512Mi")."""

    cpu_limit: str | None = None
    cpu_request: str | None = None
    memory_limit: str | None = None
    memory_request: str | None = None
    accelerator_type: str | None = None
    accelerator_limit: int | None = None


class RetryPolicy(IRModel):
    """Retries after a failure: delay = backoff_duration * backoff_factor ** (attempt - 1), capped."""

    max_retries: int
    policy: str | None = None
    backoff_duration: float = 0.0
    backoff_factor: float = 2.0
    backoff_max_duration: float = 3600.0


class CachingOptions(IRModel):
    """Caching is on unless switched off; a custom key replaces the inputs part of the cache key."""

    enabled: bool = True
    key: str | None = None
    max_staleness_seconds: float | None = None


class UserContainerSpec(IRModel):
    """KFP v1 `dsl.UserContainer`: another container of the task's pod. As an init container (Argo
    `initContainers`) it runs to completion before the step's own command; the local runner runs its
    command on this machine first, and fails the task naming it when it fails."""

    name: str
    image: str
    command: list[str] = Field(default_factory=list)
    args: list[str] = Field(default_factory=list)
    mirror_volume_mounts: bool = False


class SidecarSpec(UserContainerSpec):
    """KFP v1 `dsl.Sidecar`: a container running beside the task's own in its pod (Argo `sidecars`).

    The local runner refuses a task with a sidecar: the sidecar is usually a server from its image's
    entrypoint that the step reaches on localhost, which nothing here can stand in for."""


class TaskSpec(IRModel):
    """One use of a component in the pipeline."""

    component: str
    display_name: str | None = None
    group: str | None = None
    arguments: dict[str, ValueRef] = Field(default_factory=dict)
    after: list[str] = Field(default_factory=list)
    resources: Resources | None = None
    retry: RetryPolicy | None = None
    timeout_seconds: float | None = None
    caching: CachingOptions = Field(default_factory=CachingOptions)
    env: dict[str, str] = Field(default_factory=dict)
    sidecars: list[SidecarSpec] = Field(default_factory=list)
    init_containers: list[UserContainerSpec] = Field(default_factory=list)


class GroupSpec(IRModel):
    """A block of tasks: a condition, an exit handler, a parallel loop, a KFP v1 sub-graph or a graph
    component's body; nested through `parent`.

    A `graph` group is one call of a KFP v1 `@dsl.graph_component`: its tasks are the body, recorded in
    place with the values the call was given, and `inputs` holds those values by parameter name. A graph
    group with `recursive_ref` is the body calling itself again (it holds no tasks): when the conditions
    around it hold, the body named by `recursive_ref` runs once more, with each of that body's `inputs`
    replaced by this group's value for the same parameter wherever the body reads it.
    """

    kind: GroupKind
    parent: str | None = None
    display_name: str | None = None
    condition: ConditionExpr | None = None
    exit_task: str | None = None
    items: ValueRef | None = None
    parallelism: int | None = None
    inputs: dict[str, ValueRef] = Field(default_factory=dict)
    recursive_ref: str | None = None


class PipelineSettings(IRModel):
    """Pipeline-wide settings (KFP v1 `PipelineConf`): some honoured locally, the rest for Kubernetes."""

    parallelism: int | None = None
    timeout_seconds: float | None = None
    ttl_seconds_after_finished: int | None = None
    image_pull_secrets: list[str] = Field(default_factory=list)
    image_pull_policy: str | None = None
    node_selector: dict[str, str] = Field(default_factory=dict)


class PipelineInfo(IRModel):
    """Names: `name` is the sanitised identifier, `display_name` what the user wrote."""

    name: str
    display_name: str | None = None
    description: str | None = None
    function_name: str | None = None


class PipelineSpec(IRModel):
    """The whole compiled pipeline."""

    schema_version: Literal["tuner.dev/pipelines/v1"]
    pipeline: PipelineInfo
    inputs: dict[str, InputSpec] = Field(default_factory=dict)
    outputs: dict[str, ValueRef] = Field(default_factory=dict)
    components: dict[str, ComponentSpec] = Field(default_factory=dict)
    tasks: dict[str, TaskSpec] = Field(default_factory=dict)
    groups: dict[str, GroupSpec] = Field(default_factory=dict)
    settings: PipelineSettings | None = None

    def digest(self) -> str:
        """sha256 of the canonical JSON: the pipeline version's identity."""
        return "sha256:" + hashlib.sha256(canonical_json(dump(self)).encode()).hexdigest()

    def group_chain(self, group: str | None) -> list[str]:
        """The groups from the outermost down to `group` itself."""
        chain: list[str] = []
        while group is not None:
            chain.append(group)
            group = self.groups[group].parent
        return chain[::-1]

    def loops_of(self, task: str) -> list[str]:
        """The parallelFor groups around a task, outermost first."""
        return [g for g in self.group_chain(self.tasks[task].group) if self.groups[g].kind == "parallelFor"]

    def is_recursion(self, group: str) -> bool:
        """True for a graph component's call of itself (a `graph` group with `recursive_ref`)."""
        return self.groups[group].recursive_ref is not None

    def recursive_graphs(self) -> set[str]:
        """The graph groups that some group inside them calls again (their `recursive_ref` targets)."""
        return {g.recursive_ref for g in self.groups.values() if g.recursive_ref is not None}

    def scopes_of(self, group: str | None) -> list[str]:
        """The groups around `group` (itself included) that may run their tasks more than once: loops (once
        per item) and recursive graph component bodies (once per level); outermost first."""
        recursive = self.recursive_graphs()
        return [g for g in self.group_chain(group) if self.groups[g].kind == "parallelFor" or g in recursive]


def dump(model: BaseModel) -> dict[str, Any]:
    """The document form of any IR model: camelCase keys, defaults left out."""
    return model.model_dump(mode="json", by_alias=True, exclude_defaults=True)


def canonical_json(document: Any) -> str:
    """Sorted-key compact JSON, the input of every digest."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
