"""The two local kinds of trials behind the supervisor: Katib templates as processes, Python functions.

Process trials read metrics from files (the StdOut log, the File collector's file, the push file) with
Katib's collectors; function trials receive them over the worker's pipe (`tuner.report`) and from the
objective's return value (a number is the objective metric, a dict names its metrics).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from controllers.checkpoints import prepare_checkpoint
from controllers.collectors.base import Observation, StepCounter
from controllers.collectors.follow import FileFollower
from controllers.launchers.base import Handle, LaunchRequest
from controllers.launchers.function import FunctionLauncher
from controllers.launchers.process import ProcessLauncher
from controllers.local import LocalTrialPlan, MetricSource
from controllers.resources import Grant, Request
from controllers.supervisor import TrialBackend
from tuner.space import SearchSpace
from tuner.store.records import Trial


class ProcessBackend(TrialBackend):
    """Trials as local processes rendered from the experiment's trialTemplate."""

    launcher: ProcessLauncher

    def __init__(self, plan: LocalTrialPlan, launcher: ProcessLauncher | None = None) -> None:
        self.plan = plan
        self.launcher = launcher or ProcessLauncher()

    def request(self, trial: Trial, attempt: int, grant: Grant | None) -> LaunchRequest:
        request = self.plan.request(trial.name, trial.assignment_values(), attempt, grant, trial.labels)
        if attempt > 1:
            with open(request.log_path, "a") as log:
                log.write(f"--- tuner: attempt {attempt} of trial {trial.name} ---\n")
        return request

    def run_spec(self, trial: str, assignment: Mapping[str, str]) -> dict[str, Any] | None:
        return self.plan.rendered(trial, assignment)

    def start_collecting(self, trial: Trial) -> list[MetricSource]:
        return self.plan.metric_sources(trial.name)

    def collect(self, trial: Trial, state: Any, handle: Handle, final: bool) -> list[Observation]:
        found: list[Observation] = []
        for source in state:
            found.extend(source.collector.feed(source.follower.read_all_new()))
            if final:
                found.extend(source.collector.finish())
        return found

    def tail(self, trial: Trial) -> list[str]:
        return FileFollower(self.plan.files(trial.name).log).tail_lines(20)

    def resources(self) -> Request:
        return self.plan.resources

    def notes(self) -> list[str]:
        return self.plan.notes()


@dataclass
class _FunctionCollection:
    steps: StepCounter = field(default_factory=StepCounter)
    finished: bool = False


class FunctionBackend(TrialBackend):
    """Trials that call a Python objective with the trial's typed parameters."""

    launcher: FunctionLauncher

    def __init__(
        self,
        launcher: FunctionLauncher,
        space: SearchSpace,
        objective_metric: str,
        runs_dir: Path,
        env: Mapping[str, str] | None = None,
        deadline_seconds: float | None = None,
    ) -> None:
        self.deadline_seconds = deadline_seconds
        self.launcher = launcher
        self.space = space
        self.objective_metric = objective_metric
        self.runs_dir = runs_dir
        self.env = dict(env or {})

    def request(self, trial: Trial, attempt: int, grant: Grant | None) -> LaunchRequest:
        params = self.space.parse(trial.assignment_values()).to_dict()
        folder = self.runs_dir / trial.name
        folder.mkdir(parents=True, exist_ok=True)
        env = {
            **self.env,
            "TUNER_TRIAL_NAME": trial.name,
            "KATIB_TRIAL_NAME": trial.name,
            **prepare_checkpoint(self.runs_dir, trial.name, trial.labels),
        }
        return LaunchRequest(
            trial=trial.name,
            env=env,
            workdir=folder,
            log_path=folder / "trial.log",
            attempt=attempt,
            payload=params,
        )

    def start_collecting(self, trial: Trial) -> _FunctionCollection:
        return _FunctionCollection()

    def collect(self, trial: Trial, state: Any, handle: Handle, final: bool) -> list[Observation]:
        found: list[Observation] = []
        for step, metrics, at in self.launcher.take_pushed(handle):
            when = datetime.fromtimestamp(at, tz=timezone.utc)
            for name, value in metrics.items():
                found.append(Observation(name, value, state.steps.next(name, step), when))
        if final and not state.finished:
            state.finished = True
            found.extend(self._returned(self.launcher.result(handle), state.steps))
        return found

    def tail(self, trial: Trial) -> list[str]:
        return FileFollower(self.runs_dir / trial.name / "trial.log").tail_lines(20)

    def _returned(self, value: Any, steps: StepCounter) -> list[Observation]:
        """The objective's return value as observations: a number, or a dict of metric -> number."""
        if value is None:
            return []
        now = datetime.now(timezone.utc)
        metrics = value if isinstance(value, Mapping) else {self.objective_metric: value}
        found = []
        for name, raw in metrics.items():
            try:
                number = float(raw)
            except (TypeError, ValueError):
                continue
            if math.isnan(number):
                continue
            found.append(Observation(str(name), number, steps.next(str(name)), now))
        return found
