"""KFP v1 `dsl.UserContainer` and `dsl.Sidecar`: more containers in a task's pod.

A `UserContainer` added with `ContainerOp(init_containers=[...])` or `.add_init_container(...)` is an init
container: it runs to completion before the step's own command (Argo `initContainers`). Locally its
command runs on this machine first, with the step's environment, and its failure fails the task naming it.

A `Sidecar` runs beside a task's own container in the same pod, added with `ContainerOp(sidecars=[...])`
or `.add_sidecar(...)`.

The Argo output carries it as the template's `sidecars`. The local runner refuses such a task when the
run reaches it (the task fails naming the sidecar): a sidecar is typically a server started by its
image's entrypoint (KFP's sample runs `hashicorp/http-echo` and fetches from localhost), and a process on
this machine cannot stand in for an image it does not have. The pipeline still compiles.
"""

from __future__ import annotations

from typing import Any

from pipelines.compiler.ir import SidecarSpec, UserContainerSpec


def _strings(value: Any, where: str, field: str) -> list[str]:
    items = [value] if isinstance(value, str) else list(value or [])
    for item in items:
        if not isinstance(item, (str, int, float)):
            raise TypeError(
                f"{where}: {field} must be strings, got {item!r}; "
                "pipeline parameters in the command line of a task's extra container are not supported"
            )
    return [str(item) for item in items]


class UserContainer:
    """KFP v1 `dsl.UserContainer(name, image, command=None, args=None, mirror_volume_mounts=False)`."""

    def __init__(
        self,
        name: str,
        image: str,
        command: str | list[Any] | None = None,
        args: str | list[Any] | None = None,
        mirror_volume_mounts: bool = False,
        **unsupported: Any,
    ) -> None:
        kind = f"dsl.{type(self).__name__}"
        if unsupported:
            raise TypeError(
                f"{kind} {name!r}: {', '.join(sorted(unsupported))} not supported; "
                "supported: name, image, command, args, mirror_volume_mounts"
            )
        if not name or not isinstance(name, str):
            raise TypeError(f"{kind}: name must be a non-empty string, got {name!r}")
        if not image or not isinstance(image, str):
            raise TypeError(f"{kind} {name!r}: image must be a non-empty string, got {image!r}")
        self.name = name
        self.image = image
        self.command = _strings(command, f"{kind} {name!r}", "command")
        self.args = _strings(args, f"{kind} {name!r}", "args")
        self.mirror_volume_mounts = bool(mirror_volume_mounts)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.image}>"

    def spec(self) -> UserContainerSpec:
        return UserContainerSpec(
            name=self.name,
            image=self.image,
            command=self.command,
            args=self.args,
            mirror_volume_mounts=self.mirror_volume_mounts,
        )


class Sidecar(UserContainer):
    """KFP v1 `dsl.Sidecar(name, image, command=None, args=None, mirror_volume_mounts=False)`."""

    def spec(self) -> SidecarSpec:
        return SidecarSpec(**super().spec().model_dump())
