"""KFP v1 `dsl.Sidecar`: a container that runs beside a task's own in the same pod, added with
`ContainerOp(sidecars=[...])` or `.add_sidecar(...)`.

The Argo output carries it as the template's `sidecars`. The local runner refuses such a task when the
run reaches it (the task fails naming the sidecar): a sidecar is typically a server started by its
image's entrypoint (KFP's sample runs `hashicorp/http-echo` and fetches from localhost), and a process on
this machine cannot stand in for an image it does not have. The pipeline still compiles.
"""

from __future__ import annotations

from typing import Any

from pipelines.compiler.ir import SidecarSpec


def _strings(value: Any, sidecar: str, field: str) -> list[str]:
    items = [value] if isinstance(value, str) else list(value or [])
    for item in items:
        if not isinstance(item, (str, int, float)):
            raise TypeError(
                f"dsl.Sidecar {sidecar!r}: {field} must be strings, got {item!r}; "
                "pipeline parameters in a sidecar's command line are not supported"
            )
    return [str(item) for item in items]


class Sidecar:
    """KFP v1 `dsl.Sidecar(name, image, command=None, args=None, mirror_volume_mounts=False)`."""

    def __init__(
        self,
        name: str,
        image: str,
        command: str | list[Any] | None = None,
        args: str | list[Any] | None = None,
        mirror_volume_mounts: bool = False,
        **unsupported: Any,
    ) -> None:
        if unsupported:
            raise TypeError(
                f"dsl.Sidecar {name!r}: {', '.join(sorted(unsupported))} not supported; "
                "supported: name, image, command, args, mirror_volume_mounts"
            )
        if not name or not isinstance(name, str):
            raise TypeError(f"dsl.Sidecar: name must be a non-empty string, got {name!r}")
        if not image or not isinstance(image, str):
            raise TypeError(f"dsl.Sidecar {name!r}: image must be a non-empty string, got {image!r}")
        self.name = name
        self.image = image
        self.command = _strings(command, name, "command")
        self.args = _strings(args, name, "args")
        self.mirror_volume_mounts = bool(mirror_volume_mounts)

    def __repr__(self) -> str:
        return f"<Sidecar {self.name} {self.image}>"

    def spec(self) -> SidecarSpec:
        return SidecarSpec(
            name=self.name,
            image=self.image,
            command=self.command,
            args=self.args,
            mirror_volume_mounts=self.mirror_volume_mounts,
        )
