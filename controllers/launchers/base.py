"""The trial launcher contract: launch, poll, cancel, logs, and re-attach after a controller restart.

A launcher runs one attempt of one trial somewhere (a local process, a function in a worker, a Kubernetes
Job, a pipeline run) and reports how it is doing. It knows nothing about metrics, the store or the
experiment: the controller renders what to run, records the returned `RunInfo` in the store before it
relies on it, and reads metrics with a collector. Every method may be called from the controller's thread
only; launchers need not be thread-safe.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class LaunchRequest:
    """What to run for one attempt of one trial.

    Attributes:
        trial: the trial's name (also the process's identity in its environment).
        attempt: 1 for the first run, 2 for the first retry, ...
        argv: the program and its arguments, run as-is (exec form: never joined into a shell line).
        env: the complete environment of the process.
        workdir: the folder the process starts in (private to the trial).
        log_path: where stdout and stderr go, combined, in the order written.
        deadline_seconds: wall-time limit of the attempt (Kubernetes activeDeadlineSeconds), None = none.
        payload: launcher-specific input (e.g. the callable and its arguments for function trials).
    """

    trial: str
    argv: Sequence[str] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    workdir: Path = Path(".")
    log_path: Path = Path("trial.log")
    attempt: int = 1
    deadline_seconds: float | None = None
    payload: Any = None


class Phase(str, enum.Enum):
    """Where an attempt is; the controller maps it to a trial state with the metrics it collected."""

    RUNNING = "Running"
    SUCCEEDED = "Succeeded"  # exited with status 0
    FAILED = "Failed"  # exited non-zero
    TIMED_OUT = "TimedOut"  # killed at its deadline
    CANCELLED = "Cancelled"  # stopped on request (early stopping, experiment end, Ctrl-C)
    LOST = "Lost"  # gone without a trace of how it ended (e.g. killed while nobody watched)

    @property
    def is_done(self) -> bool:
        return self is not Phase.RUNNING


@dataclass(frozen=True)
class Status:
    phase: Phase
    exit_code: int | None = None
    message: str = ""


@dataclass(frozen=True)
class RunInfo:
    """Everything needed to find a launched attempt again, as a JSON-able dict for the store."""

    launcher: str
    data: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"launcher": self.launcher, **self.data}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> RunInfo:
        data = dict(raw)
        return cls(launcher=str(data.pop("launcher", "")), data=data)


class Handle(ABC):
    """A launched attempt. `info` is what the controller persists to re-attach later."""

    @property
    @abstractmethod
    def info(self) -> RunInfo: ...


class Launcher(ABC):
    """Runs trial attempts. See the module docstring for who calls what."""

    name: str = ""

    @abstractmethod
    def launch(self, request: LaunchRequest) -> Handle:
        """Start one attempt and return at once.

        Raises:
            tuner.errors.LaunchError: the attempt cannot start (e.g. the program does not exist); the
                message says what to fix.
        """

    @abstractmethod
    def poll(self, handle: Handle) -> Status:
        """How the attempt is doing now; never blocks. Enforces the deadline."""

    @abstractmethod
    def cancel(self, handle: Handle, grace_seconds: float = 10.0) -> None:
        """Stop the attempt: ask politely (SIGTERM or equivalent), then force after `grace_seconds`.

        Blocks until it is gone; afterwards `poll` reports CANCELLED. Cancelling a finished attempt does nothing.
        """

    @abstractmethod
    def attach(self, info: RunInfo) -> Handle | None:
        """Find an attempt launched earlier (possibly by another controller process), or None if that is
        impossible for this launcher; the controller then treats the attempt as lost."""

    def log_path(self, handle: Handle) -> Path | None:
        """The attempt's combined output, when it lives in a local file."""
        return None

    def close(self) -> None:
        """Release resources held by the launcher itself (worker pools...)."""
