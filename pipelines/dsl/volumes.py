"""KFP v1 volumes: `dsl.VolumeOp` creates a volume, `dsl.PipelineVolume` names one, and a `ContainerOp`
mounts it with `pvolumes={"/mnt": volume}` or `.add_pvolumes(...)`.

Locally a volume is a folder (`<TUNER_HOME>/pipelines/volumes/<claim name>`) shared by the tasks that
mount it: each mount path is rewritten in the container step's command line to that folder, the way
`file_outputs` paths are. A `VolumeOp` makes a fresh folder for each run (its claim name starts with the
run's id); `PipelineVolume(pvc="name")` is an existing claim, so its folder outlives runs. On Argo the
`VolumeOp` is a resource template creating a PersistentVolumeClaim, and each mount a `volumeMounts` entry.
Python components cannot mount volumes here: their code's paths cannot be rewritten.
"""

from __future__ import annotations

from typing import Any

from pipelines.compiler.ir import ComponentSpec, InputSpec, OutputSpec, VolumeImplementation, placeholder
from pipelines.dsl.channels import Channel
from pipelines.dsl.tasks import PipelineTask

VOLUME_MODE_RWO = ["ReadWriteOnce"]
VOLUME_MODE_RWM = ["ReadWriteMany"]
VOLUME_MODE_ROM = ["ReadOnlyMany"]


class PipelineVolume:
    """A volume tasks can mount: made by a `VolumeOp`, or an existing claim (`pvc="name"`)."""

    def __init__(self, pvc: Any = None, name: str | None = None, volume: Any = None, **_ignored: Any) -> None:
        if pvc is None:
            raise TypeError(
                "dsl.PipelineVolume needs pvc= (the claim's name, or a VolumeOp's outputs['name'])"
            )
        if not isinstance(pvc, (str, Channel)):
            raise TypeError(f"dsl.PipelineVolume: pvc must be a claim name or a task output, got {pvc!r}")
        self.pvc = pvc
        self.name = name or (pvc if isinstance(pvc, str) else "volume")
        self.dependencies: list[PipelineTask] = []

    def __repr__(self) -> str:
        return f"<PipelineVolume {self.name}>"

    def after(self, *ops: PipelineTask) -> PipelineVolume:
        """KFP v1: tasks mounting this volume also wait for `ops` (e.g. the task that wrote to it)."""
        copy = PipelineVolume(pvc=self.pvc, name=self.name)
        copy.dependencies = [*self.dependencies, *ops]
        return copy


class VolumeOp(PipelineTask):
    """KFP v1 `dsl.VolumeOp(name=, resource_name=, size=, modes=)`: a task creating a volume; `.volume` is it."""

    def __init__(
        self,
        name: str,
        resource_name: str | None = None,
        size: str | None = None,
        storage_class: str | None = None,
        modes: list[str] | None = None,
        annotations: dict[str, str] | None = None,
        data_source: Any = None,
        volume_name: str | None = None,
        generate_unique_name: bool = True,
        **_ignored: Any,
    ) -> None:
        if data_source is not None:
            raise TypeError(f"VolumeOp {name!r}: data_source (a snapshot to restore) is not supported")
        if not resource_name:
            raise TypeError(f"VolumeOp {name!r}: resource_name (the claim's name) is required")
        inputs: dict[str, InputSpec] = {}
        arguments: dict[str, Any] = {}
        if isinstance(size, Channel):  # a pipeline parameter or a task output: known when the run starts
            inputs["size"], arguments["size"] = InputSpec(type="str"), size
            size = placeholder("inputs.size")
        spec = ComponentSpec(
            name=name,
            inputs=inputs,
            outputs={"name": OutputSpec(type="str"), "size": OutputSpec(type="str")},
            volume=VolumeImplementation(
                resource_name=resource_name,
                size=str(size) if size is not None else None,
                storage_class=storage_class,
                modes=list(modes or VOLUME_MODE_RWM),
            ),
        )
        super().__init__(spec, arguments, base_name=name)
        self.volume = PipelineVolume(pvc=self.outputs["name"], name=resource_name)
        self.volume.dependencies = [self]

    @property
    def size(self) -> Channel:
        """The volume's size (an output)."""
        return self.outputs["size"]
