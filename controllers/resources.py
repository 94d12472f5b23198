"""How many trials fit on this machine at once, and which GPU each one gets.

A trial asks for what its primary container's `resources` say (limits, else requests): `cpu` ("2", "500m"),
`nvidia.com/gpu` (whole devices). The pool hands out CPU capacity and GPU device ids; a trial that asks for
more than the machine has can never run and is refused before the experiment starts. Memory is not
scheduled locally (the operating system arbitrates it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tuner.quantities import parse_cpu, parse_gpus

GPU_RESOURCE = "nvidia.com/gpu"
T = TypeVar("T")


@dataclass(frozen=True)
class Request:
    cpu: float = 0.0
    gpus: int = 0


@dataclass(frozen=True)
class Grant:
    cpu: float
    gpu_ids: tuple[int, ...] = ()

    def env(self) -> dict[str, str]:
        """CUDA_VISIBLE_DEVICES for a trial that was given GPUs (and only then)."""
        return {"CUDA_VISIBLE_DEVICES": ",".join(map(str, self.gpu_ids))} if self.gpu_ids else {}


def request_of(container: Mapping[str, Any] | None) -> Request:
    """What a container asks for; limits win over requests, as they bound what it may use.

    Raises:
        ValueError: a `cpu` or `nvidia.com/gpu` value is not a quantity; the message names the value.
    """
    resources = (container or {}).get("resources") or {}
    found: dict[str, tuple[str, Any]] = {}  # resource name -> (where it was written, value)
    for kind in ("requests", "limits"):  # limits come last: they win
        for name, value in (resources.get(kind) or {}).items():
            found[name] = (f"resources.{kind}.{name}", value)
    cpu = _read(parse_cpu, *found["cpu"]) if "cpu" in found else 0.0
    gpus = _read(parse_gpus, *found[GPU_RESOURCE]) if GPU_RESOURCE in found else 0
    return Request(cpu=cpu, gpus=gpus)


def _read(parse: Callable[[Any], T], path: str, value: Any) -> T:
    try:
        return parse(value)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def detect_gpus() -> list[int]:
    """GPU ids visible to this process: CUDA_VISIBLE_DEVICES if set, else `nvidia-smi -L`, else none."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [int(x) for x in visible.split(",") if x.strip().isdecimal()]
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(
            ["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [i for i, line in enumerate(out.splitlines()) if line.startswith("GPU ")]


@dataclass
class ResourcePool:
    """CPU capacity and GPU devices shared by the trials of one controller process."""

    cpus: float = field(default_factory=lambda: float(os.cpu_count() or 1))
    gpu_ids: list[int] = field(default_factory=detect_gpus)
    _cpu_used: float = 0.0
    _gpus_free: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._gpus_free = list(self.gpu_ids)

    def never_fits(self, request: Request) -> str | None:
        """Why `request` can never be granted on this machine, or None."""
        if request.gpus > len(self.gpu_ids):
            have = f"{len(self.gpu_ids)} GPU{'s' if len(self.gpu_ids) != 1 else ''}"
            return f"asks for {request.gpus} {GPU_RESOURCE} but this machine has {have}"
        if request.cpu > self.cpus:
            return f"asks for {request.cpu:g} CPUs but this machine has {self.cpus:g}"
        return None

    def try_acquire(self, request: Request) -> Grant | None:
        """A grant if the request fits now, else None (try again when a trial ends)."""
        if self._cpu_used + request.cpu > self.cpus + 1e-9 or request.gpus > len(self._gpus_free):
            return None
        self._cpu_used += request.cpu
        ids = tuple(self._gpus_free[: request.gpus])
        del self._gpus_free[: request.gpus]
        return Grant(cpu=request.cpu, gpu_ids=ids)

    def release(self, grant: Grant) -> None:
        self._cpu_used = max(self._cpu_used - grant.cpu, 0.0)
        self._gpus_free.extend(g for g in grant.gpu_ids if g not in self._gpus_free)
        self._gpus_free.sort()
