"""The local runner: runs a compiled pipeline on this machine.

`LocalRunner.run(spec, arguments, options)` checks the arguments, then drives a `Plan` with one event loop:
start every ready task that fits (the `parallelism` slots, the machine's CPU and memory budgets against
the tasks' limits, each loop's own `parallelism`), stream the tasks' output, notice exits and timeouts,
retry failures after their backoff, and record everything through the `RunRecorder`. Each task runs in a
process of its own (`pipelines.runner.task` prepares it); cache hits never start one.

Interruptions: Ctrl-C (SIGINT), SIGTERM and SIGHUP stop the running tasks (their whole process groups),
mark the run and those tasks `Cancelled` with the signal's name, and end the call with `RunInterrupted`
(a `SystemExit` with code 128 + the signal number, so an uncaught one ends the process as the signal
would have). Handlers are installed only while a run is in progress, and only from the main thread.

What it does not do: run container images (a `ContainerOp` command runs on the host and the image is
recorded), enforce memory limits (they only budget), or survive SIGKILL (the run then stays Running in
the store; its cached tasks are reused by the next run).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import re
import selectors
import shutil
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.compiler.ir import PipelineSpec, dump
from pipelines.runner.artifacts import ProjectArtifacts, TaskArtifacts
from pipelines.runner.console import RunObserver, SilentObserver
from pipelines.runner.envs import missing_packages, venv_for, venv_python
from pipelines.runner.executor import CoercionError, coerce
from pipelines.runner.plan import DEFAULT_MAX_RECURSION_DEPTH, RECURSION_VARIABLE, Instance, Plan
from pipelines.runner.processes import TaskProcess, WarmPool, site_paths
from pipelines.runner.recorder import InMemoryRecorder, RunRecorder
from pipelines.runner.records import (
    ArtifactRef,
    CacheEntry,
    LineageEvent,
    RunRecord,
    RunState,
    TaskRecord,
    TaskState,
)
from pipelines.runner.results import RunResult
from pipelines.runner.task import (
    EXIT_FILE,
    INIT_FAILED,
    PreparedTask,
    TaskFailure,
    collect_outputs,
    prepare_task,
    safe_name,
    start_task,
    volume_folder,
)
from tuner.config import Settings
from tuner.errors import Problem, SpecError
from tuner.quantities import parse_cpu, parse_memory


@dataclass
class RunOptions:
    """How to run: concurrency, caching, package installation, names.

    Attributes:
        parallelism: tasks running at once (default: the machine's CPU count).
        enable_caching: reuse outputs of earlier identical tasks (default on; tasks can opt out too).
        install_packages: build cached virtual environments for `packages_to_install` (default off: run in
            the current environment and say what is missing).
        cpu_budget / memory_budget: what tasks' cpu/memory limits are budgeted against (default: this machine).
        trial_id: the store id of the trial this run belongs to, when a pipeline runs as a trial.
        warm_processes: interpreters kept started ahead of need (default: min(2, parallelism)).
        task_timeout: seconds after which an attempt of a task without its own `set_timeout` is stopped
            (default: none, or TUNER_PIPELINES_TASK_TIMEOUT), so that a hung task cannot hang a run.
        fast_start: start task interpreters without `site` (about 20 ms less per task; site-packages are
            added back by the executor). Default on; TUNER_PIPELINES_FAST_START=0 switches it off, e.g. for
            tasks whose `multiprocessing` children (spawn/forkserver) would inherit the `-S` flag.
        run_id: the run's id (and folder name under `<data>/pipelines/runs/`); default a new uuid. A run
            resumed after its driver died passes its earlier id so its tasks keep their folders and logs.
        resume: tasks that finished in an earlier execution of this run, by instance name (`inc-op[2]`):
            they are not started again; their recorded state and outputs stand (see `ResumedTask`).
        adopt: tasks whose process was started by an earlier execution of this run and has ended since
            (waited out, see `pipelines.runner.resume`): when it exited 0 its outputs are collected as
            this attempt's, instead of running the task again.
        should_stop: asked on every turn of the loop (at least every 0.25 s): None to go on, "cancel" to
            stop the running tasks and end the run Cancelled, "detach" to stop them and leave the run
            unfinished in the records, to be resumed later (a server shutting down).
        max_recursion_depth: how many times a KFP v1 graph component may call itself, nested, before the
            run fails (default 100, or TUNER_PIPELINES_MAX_RECURSION_DEPTH), so that a recursion whose
            condition never turns false cannot run forever.
    """

    parallelism: int | None = None
    enable_caching: bool = True
    install_packages: bool = False
    run_name: str | None = None
    experiment_name: str | None = None
    cpu_budget: float | None = None
    memory_budget: int | None = None
    warm_processes: int | None = None
    trial_id: int | None = None
    task_timeout: float | None = field(default_factory=lambda: _env_timeout())
    fast_start: bool = field(default_factory=lambda: os.environ.get("TUNER_PIPELINES_FAST_START", "1") != "0")
    max_recursion_depth: int = field(default_factory=lambda: _env_recursion_depth())
    run_id: str | None = None
    resume: Mapping[str, ResumedTask] | None = None
    adopt: frozenset[str] = frozenset()
    should_stop: Callable[[], str | None] | None = None


@dataclass(frozen=True)
class ResumedTask:
    """A task that finished in an earlier execution of a resumed run: its state (Succeeded, Cached,
    Failed, Skipped), outputs and output artifacts, and message."""

    state: TaskState
    outputs: dict[str, Any] = field(default_factory=dict)
    output_artifacts: dict[str, ArtifactRef] = field(default_factory=dict)
    message: str = ""
    attempts: int = 1


class RunDetached(Exception):
    """The run was left unfinished on purpose (`should_stop` said "detach"): its running tasks were
    stopped and nothing more was recorded, so that it can be resumed."""


TIMEOUT_VARIABLE = "TUNER_PIPELINES_TASK_TIMEOUT"


def _env_timeout() -> float | None:
    text = os.environ.get(TIMEOUT_VARIABLE, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise SpecError(
            [Problem(TIMEOUT_VARIABLE, f"expected seconds (e.g. 600), got {text!r}")], "environment"
        ) from None
    return value if value > 0 else None


def _env_recursion_depth() -> int:
    text = os.environ.get(RECURSION_VARIABLE, "").strip()
    if not text:
        return DEFAULT_MAX_RECURSION_DEPTH
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise SpecError(
            [Problem(RECURSION_VARIABLE, f"expected a whole number >= 0 (e.g. 100), got {text!r}")],
            "environment",
        )
    return value


class _Cancelled(Exception):
    """`should_stop` said "cancel"; the run was recorded Cancelled."""


class RunInterrupted(SystemExit):
    """The runner got SIGINT, SIGTERM or SIGHUP; the run was recorded as Cancelled.

    Its exit code is 128 + the signal number, as a shell reports a process ended by that signal.
    """

    def __init__(self, signum: int, run_id: str = "") -> None:
        super().__init__(128 + signum)
        self.signum = signum
        self.signal_name = signal.Signals(signum).name
        self.run_id = run_id

    def __str__(self) -> str:
        return f"run {self.run_id} interrupted by {self.signal_name}"


_HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def check_arguments(spec: PipelineSpec, arguments: dict[str, Any] | None) -> dict[str, Any]:
    """The pipeline's arguments with defaults filled in and values coerced to the declared types.

    Raises:
        SpecError: an unknown argument, a missing required one, or a value of the wrong type.
    """
    given = dict(arguments or {})
    problems: list[Problem] = []
    for key in given:
        if key not in spec.inputs:
            known = ", ".join(spec.inputs) or "none"
            problems.append(
                Problem(f"arguments.{key}", f"the pipeline has no parameter {key!r}; parameters: {known}")
            )
    values: dict[str, Any] = {}
    for key, input_spec in spec.inputs.items():
        if key in given:
            try:
                values[key] = coerce(given[key], input_spec.type)
            except CoercionError as exc:
                problems.append(Problem(f"arguments.{key}", str(exc)))
        elif input_spec.optional:
            values[key] = input_spec.default
        else:
            problems.append(
                Problem(
                    f"arguments.{key}", f"required parameter {key!r} has no value; pass it as an argument"
                )
            )
    if problems:
        raise SpecError(problems, f"pipeline {spec.pipeline.display_name or spec.pipeline.name}")
    return values


def _machine_memory() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 1 << 34


def _has_gpu() -> bool:
    return bool(shutil.which("nvidia-smi")) or Path("/dev/nvidia0").exists()


@dataclass
class _Running:
    inst: Instance
    prepared: PreparedTask
    process: TaskProcess
    deadline: float | None
    cpu: float
    memory: int
    timeout: float | None = None


class LocalRunner:
    """Runs pipelines on this machine; reusable for many runs (its recorder keeps the cache)."""

    def __init__(
        self,
        settings: Settings | None = None,
        recorder: RunRecorder | None = None,
        artifacts: TaskArtifacts | None = None,
        observer: RunObserver | None = None,
    ) -> None:
        self.settings = settings or Settings.from_env()
        self.recorder: RunRecorder = recorder if recorder is not None else InMemoryRecorder()
        self.artifacts: TaskArtifacts = artifacts or ProjectArtifacts.from_settings(self.settings)
        self.observer: RunObserver = observer or SilentObserver()

    def run(
        self, spec: PipelineSpec, arguments: dict[str, Any] | None = None, options: RunOptions | None = None
    ) -> RunResult:
        """Run `spec` to the end and return the result (Failed runs return too; nothing raises for them).

        Raises:
            SpecError: the arguments do not fit the pipeline's parameters (nothing is recorded).
        """
        values = check_arguments(spec, arguments)
        return _Execution(self, spec, values, options or RunOptions()).execute()


class _Execution:
    """One run in progress."""

    def __init__(
        self, runner: LocalRunner, spec: PipelineSpec, arguments: dict[str, Any], options: RunOptions
    ) -> None:
        self.runner = runner
        self.spec = spec
        self.options = options
        self.recorder = runner.recorder
        self.observer = runner.observer
        self.store = runner.artifacts
        cpus = os.cpu_count() or 1
        self.parallelism = max(1, options.parallelism or cpus)
        settings = spec.settings
        if settings is not None and settings.parallelism:  # PipelineConf.set_parallelism
            self.parallelism = min(self.parallelism, settings.parallelism)
        self.run_timeout = settings.timeout_seconds if settings is not None else None
        self.run_deadline: float | None = None
        self.timed_out: str | None = None
        self.cpu_budget = options.cpu_budget or float(cpus)
        self.memory_budget = options.memory_budget or _machine_memory()
        run_id = options.run_id or uuid.uuid4().hex
        self.run_dir = runner.settings.data_dir / "pipelines" / "runs" / run_id
        self.run = RunRecord(
            run_id=run_id,
            pipeline_name=spec.pipeline.name,
            pipeline_digest=spec.digest(),
            arguments=arguments,
            run_name=options.run_name,
            experiment_name=options.experiment_name,
            trial_id=options.trial_id,
            started_at=time.time(),
            run_dir=str(self.run_dir),
        )
        self.plan = Plan(
            spec,
            arguments,
            lambda ref: self.store.read_text(ref.uri).rstrip("\r\n"),
            max_recursion_depth=options.max_recursion_depth,
        )
        self.records: dict[str, TaskRecord] = {}
        self.queue: list[Instance] = []
        self.running: dict[str, _Running] = {}
        self.retries: list[tuple[float, int, str]] = []  # (due, tie-breaker, instance id)
        self.prepared: dict[str, PreparedTask] = {}
        self._counter = itertools.count()
        self.pythons: dict[str, str] = {}
        warm = options.warm_processes if options.warm_processes is not None else min(2, self.parallelism)
        self.pool = WarmPool(
            sys.executable, warm if self._has_python_tasks() else 0, cwd=None, fast_start=options.fast_start
        )
        self.site_paths: list[str] | None = site_paths() if options.fast_start else None
        self.selector = selectors.DefaultSelector()

    def _has_python_tasks(self) -> bool:
        return any(c.python is not None for c in self.spec.components.values())

    # --- set-up ------------------------------------------------------------------------------------------

    def _start_run(self) -> None:
        self.run.pipeline_version_id = self.recorder.pipeline_version(
            self.spec.pipeline.name, self.run.pipeline_digest, dump(self.spec)
        )
        (self.run_dir / "logs").mkdir(parents=True, exist_ok=True)
        self.recorder.run_started(self.run)
        self.observer.run_started(self.run, self.spec)
        self._environment_notes()

    def _environment_notes(self) -> None:
        """Say once, before anything runs, what the local machine will not do as asked."""
        has_gpu: bool | None = None
        for name, task in self.spec.tasks.items():
            limit = task.resources.accelerator_limit if task.resources else None
            if limit:
                has_gpu = _has_gpu() if has_gpu is None else has_gpu
                if not has_gpu:
                    self.observer.note(
                        f"{name} asks for {limit} {task.resources.accelerator_type or 'GPU'} (set_gpu_limit); "  # type: ignore[union-attr]
                        "this machine has no GPU, so it runs without one"
                    )
        for key, component in self.spec.components.items():
            if component.container is not None:
                self.observer.note(
                    f"{key}: image {component.container.image} is not used; its command runs on this machine"
                )
            if component.python is None or not component.python.packages_to_install:
                continue
            packages = component.python.packages_to_install
            if self.options.install_packages:
                self.observer.note(f"{key}: preparing a virtual environment with {', '.join(packages)}")
                self.pythons[key] = str(
                    venv_python(venv_for(packages, self.runner.settings.data_dir / "pipelines" / "venvs"))
                )
            else:
                missing = missing_packages(packages)
                if missing:
                    self.observer.note(
                        f"{key}: packages_to_install not installed, running in the current environment where "
                        f"{'; '.join(missing)} (use --install-packages / install_packages=True to install them)"
                    )

    # --- records -----------------------------------------------------------------------------------------

    def _record(self, inst: Instance) -> TaskRecord:
        record = self.records.get(inst.id)
        if record is None:
            task = self.spec.tasks[inst.task]
            component = self.spec.components[task.component]
            record = TaskRecord(
                run_id=self.run.run_id,
                name=inst.id,
                task=inst.task,
                component=task.component,
                component_digest=component.digest(),
                display_name=task.display_name,
                iteration=inst.iteration,
                log_path=str(self.run_dir / "logs" / f"{safe_name(inst.id)}.log"),
                image=component.container.image
                if component.container
                else (component.python.base_image if component.python else None),
            )
            self.records[inst.id] = record
        return record

    def _changed(self, record: TaskRecord) -> None:
        self.recorder.task_changed(record)

    def _input_lineage(self, record: TaskRecord) -> None:
        """The artifacts a task read (recorded once the task itself is)."""
        for name, ref in record.input_artifacts.items():
            self.recorder.lineage_event(LineageEvent(self.run.run_id, record.name, "input", name, ref))

    # --- the loop ----------------------------------------------------------------------------------------

    def execute(self) -> RunResult:
        previous = self._catch_signals()
        try:
            self._start_run()
            try:
                self._loop()  # the warm pool starts with the first Python task (a fully cached run starts none)
            except _Cancelled:
                return RunResult(self.run, dict(self.records), self.spec)
            except RunDetached:
                raise
            except RunInterrupted as exc:
                exc.run_id = self.run.run_id
                self._abort(f"interrupted by {exc.signal_name}", cancelled=True)
                raise
            except KeyboardInterrupt:
                self._abort("interrupted by SIGINT (Ctrl-C)", cancelled=True)
                raise
            except BaseException as exc:
                self._abort(f"the runner failed: {type(exc).__name__}: {exc}")
                raise
            finally:
                self.pool.close()
                self.selector.close()
            return self._finish()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _catch_signals(self) -> dict[int, Any]:
        """SIGTERM and SIGHUP end the run like Ctrl-C does (main thread only; restored afterwards)."""
        if threading.current_thread() is not threading.main_thread():
            return {}

        def interrupted(signum: int, frame: Any) -> None:
            raise RunInterrupted(signum)

        previous: dict[int, Any] = {}
        for signum in _HANDLED_SIGNALS:
            previous[signum] = signal.signal(signum, interrupted)
        return previous

    def _stop_asked(self) -> bool:
        """Act on `options.should_stop`: True when the run was cancelled; raises RunDetached on detach."""
        if self.options.should_stop is None:
            return False
        asked = self.options.should_stop()
        if asked == "cancel":
            self._abort("cancelled", cancelled=True)
            return True
        if asked == "detach":
            for running in list(self.running.values()):
                running.process.kill("the runner detached")
                with contextlib.suppress(Exception):
                    running.process.popen.wait(timeout=5)
                running.process.close()
                running.prepared.close_log()
            self.running.clear()
            raise RunDetached(self.run.run_id)
        return False

    def _loop(self) -> None:
        if self.run_timeout:
            self.run_deadline = time.monotonic() + self.run_timeout
        while True:
            if self._stop_asked():
                raise _Cancelled
            if self.run_deadline is not None and time.monotonic() >= self.run_deadline:
                self._time_out_run()
                return
            ready, skipped = self.plan.advance()
            for inst in skipped:
                record = self._record(inst)
                record.state, record.message, record.finished_at = (
                    TaskState.SKIPPED,
                    inst.message,
                    time.time(),
                )
                self._changed(record)
                self.observer.task_finished(record)
            self.queue.extend(ready)
            progressed = self._launch()
            if progressed:
                continue  # cache hits and instant failures may have unblocked more
            if not self.running and not self.retries:
                if self.queue:
                    raise RuntimeError(f"tasks {[i.id for i in self.queue]} are ready but cannot be started")
                break
            self._wait()

    def _fits(self, inst: Instance, cpu: float, memory: int) -> bool:
        if len(self.running) >= self.parallelism:
            return False
        used_cpu = sum(r.cpu for r in self.running.values())
        used_memory = sum(r.memory for r in self.running.values())
        if self.running and (used_cpu + cpu > self.cpu_budget or used_memory + memory > self.memory_budget):
            return False
        running = [r.inst for r in self.running.values()]
        if not self._sub_graphs_fit(inst, running):
            return False
        for depth, (group, index) in enumerate(inst.scope):
            limit = self.spec.groups[group].parallelism
            if limit:
                busy = self.plan.running_iterations(running, group, inst.scope[:depth])
                if index not in busy and len(busy) >= limit:
                    return False
        return True

    def _sub_graphs_fit(self, inst: Instance, running: list[Instance]) -> bool:
        """KFP v1 dsl.SubGraph(parallelism=N): at most N of its tasks run at once (per loop iteration)."""
        spec = self.spec
        for group in spec.group_chain(spec.tasks[inst.task].group):
            limit = spec.groups[group].parallelism
            if spec.groups[group].kind != "subGraph" or not limit:
                continue
            loops = len(spec.scopes_of(group))
            busy = sum(
                1
                for other in running
                if group in spec.group_chain(spec.tasks[other.task].group)
                and other.scope[:loops] == inst.scope[:loops]
            )
            if busy >= limit:
                return False
        return True

    def _demand(self, inst: Instance) -> tuple[float, int]:
        resources = self.spec.tasks[inst.task].resources
        if resources is None:
            return 0.0, 0
        cpu_text = resources.cpu_limit or resources.cpu_request
        memory_text = resources.memory_limit or resources.memory_request
        cpu = min(parse_cpu(cpu_text), self.cpu_budget) if cpu_text else 0.0
        memory = min(parse_memory(memory_text), self.memory_budget) if memory_text else 0
        return cpu, memory

    def _launch(self) -> bool:
        """Start what fits; True when some task finished without a process (cache hit, bad input)."""
        progressed = False
        waiting: list[Instance] = []
        for inst in self.queue:
            cpu, memory = self._demand(inst)
            if not self._fits(inst, cpu, memory):
                waiting.append(inst)
                continue
            if self._start(inst, cpu, memory):
                progressed = True
        self.queue = waiting
        return progressed

    def _start(self, inst: Instance, cpu: float, memory: int) -> bool:
        """Start an attempt; True when the task finished at once (cache hit or failure to prepare)."""
        record = self._record(inst)
        resumed = (self.options.resume or {}).get(inst.id)
        if resumed is not None:
            self._resumed(inst, record, resumed)
            return True
        sidecars = self.spec.tasks[inst.task].sidecars
        if sidecars:  # see pipelines.dsl.sidecars: nothing here can stand in for the sidecar's image
            names = ", ".join(f"{s.name!r} (image {s.image})" for s in sidecars)
            self._fail(
                inst,
                record,
                f"sidecar {names} runs beside the step in its pod: it needs the cluster, not the local "
                "runner; compile the pipeline for Argo (tuner pipelines compile --target argo)",
            )
            return True
        resource = self.spec.components[self.spec.tasks[inst.task].component].resource
        if resource is not None:  # see pipelines.dsl.resources
            kind = resource.manifest.get("kind", "object")
            self._fail(
                inst,
                record,
                f"ResourceOp {inst.task!r} would {resource.action} a Kubernetes {kind}: it needs a cluster, "
                "not the local runner; compile the pipeline for Argo (tuner pipelines compile --target argo)",
            )
            return True
        volume = self.spec.components[self.spec.tasks[inst.task].component].volume
        if volume is not None:
            size = volume.size
            if size is not None and "size" in self.spec.tasks[inst.task].arguments:
                size = str(self.plan.value_of(self.plan.arguments_of(inst)["size"]))
            self._create_volume(inst, record, volume.resource_name, size)
            return True
        prepared = self.prepared.get(inst.id)
        if prepared is None:
            try:
                prepared = prepare_task(self, inst, record)
            except TaskFailure as exc:
                self._fail(inst, record, str(exc))
                return True
            self.prepared[inst.id] = prepared
            if prepared.cache_hit is not None:
                self._cache_hit(inst, record, prepared.cache_hit)
                return True
            if inst.id in self.options.adopt and self._adopted(inst, record, prepared):
                return True
        record.attempts += 1
        record.state = TaskState.RUNNING
        record.started_at = record.started_at or time.time()
        try:
            process = start_task(self, prepared, record)
        except TaskFailure as exc:
            self._attempt_failed(inst, record, str(exc))
            return True
        record.pid = process.popen.pid
        self._changed(record)
        if record.attempts == 1:
            self._input_lineage(record)
        self.observer.task_started(record)
        timeout = self.spec.tasks[inst.task].timeout_seconds or self.options.task_timeout
        running = _Running(
            inst, prepared, process, time.monotonic() + timeout if timeout else None, cpu, memory, timeout
        )
        self.running[inst.id] = running
        self.selector.register(process.stdout_fd, selectors.EVENT_READ, ("out", inst.id))
        if process.pidfd is not None:
            self.selector.register(process.pidfd, selectors.EVENT_READ, ("exit", inst.id))
        return False

    def _time_out_run(self) -> None:
        """PipelineConf.set_timeout passed: stop what runs, skip what waits; the run ends Failed."""
        reason = f"the pipeline timed out after {self.run_timeout:g}s (PipelineConf.set_timeout)"
        for running in list(self.running.values()):
            running.process.kill(reason)
            with contextlib.suppress(Exception):
                running.process.popen.wait(timeout=5)
            self._exited(running)
        for inst in self.plan.instances.values():
            if not inst.state.is_finished:
                record = self._record(inst)
                inst.state, inst.message = TaskState.SKIPPED, reason
                record.state, record.message, record.finished_at = TaskState.SKIPPED, reason, time.time()
                self._changed(record)
        self.retries.clear()
        self.queue.clear()
        self.timed_out = reason

    def _create_volume(
        self, inst: Instance, record: TaskRecord, resource_name: str, size: str | None
    ) -> None:
        """A VolumeOp: a fresh folder for this run (see `pipelines.dsl.volumes`); no process."""
        claim = f"{self.run.run_id[:8]}-{resource_name}"
        volume_folder(self.runner.settings.data_dir, claim).mkdir(parents=True, exist_ok=True)
        now = time.time()
        record.attempts, record.started_at, record.finished_at = 1, now, now
        record.state, record.outputs = TaskState.SUCCEEDED, {"name": claim, "size": size or ""}
        inst.outputs = dict(record.outputs)
        self.plan.finish(inst, TaskState.SUCCEEDED)
        self._changed(record)
        self.observer.task_finished(record)

    def _wait(self) -> None:
        now = time.monotonic()
        deadlines = [r.deadline for r in self.running.values() if r.deadline is not None]
        if self.run_deadline is not None:
            deadlines.append(self.run_deadline)
        deadlines += [due for due, _, _ in self.retries]
        timeout = max(0.0, min(deadlines) - now) if deadlines else None
        if any(r.process.pidfd is None for r in self.running.values()):
            timeout = 0.02 if timeout is None else min(timeout, 0.02)
        if self.options.should_stop is not None:
            timeout = 0.25 if timeout is None else min(timeout, 0.25)
        if self.running:
            events = self.selector.select(timeout)
        else:  # only retries are waiting
            time.sleep(timeout or 0)
            events = []
        exited: list[str] = []
        for key, _ in events:
            kind, inst_id = key.data
            if kind == "out":
                self._read_output(self.running[inst_id])
            elif inst_id not in exited:
                exited.append(inst_id)
        for inst_id, running in list(self.running.items()):
            if (
                running.process.pidfd is None
                and running.process.popen.poll() is not None
                and inst_id not in exited
            ):
                exited.append(inst_id)
        for inst_id in exited:
            self._exited(self.running[inst_id])
        now = time.monotonic()
        for running in self.running.values():
            if running.deadline is not None and now >= running.deadline:
                own = self.spec.tasks[running.inst.task].timeout_seconds is not None
                running.process.kill(
                    f"timed out after {running.timeout:g}s"
                    + ("" if own else " (the run's default task timeout, --task-timeout)")
                )
                running.deadline = None
        while self.retries and self.retries[0][0] <= now:
            _, _, inst_id = heapq.heappop(self.retries)
            self.queue.append(self.plan.instances[inst_id])

    def _read_output(self, running: _Running) -> None:
        record = self.records[running.inst.id]
        for raw in running.process.read_available():
            running.prepared.log.write(raw)
            self.observer.task_output(record, raw.decode(errors="replace"))
        running.prepared.log.flush()
        if running.process.eof:
            with contextlib.suppress(KeyError, ValueError):
                self.selector.unregister(running.process.stdout_fd)

    def _exited(self, running: _Running) -> None:
        process = running.process
        self._read_output(running)
        for fd in (process.stdout_fd, process.pidfd):
            if fd is not None:
                with contextlib.suppress(KeyError, ValueError):
                    self.selector.unregister(fd)
        code = process.popen.wait()
        process.close()
        del self.running[running.inst.id]
        inst, record = running.inst, self.records[running.inst.id]
        if process.killed_reason:
            self._attempt_failed(inst, record, process.killed_reason)
        elif code != 0:
            self._attempt_failed(
                inst,
                record,
                self._init_failure(running)
                or f"exited with code {code}" + self._missing_program(running, code),
            )
        else:
            try:
                collect_outputs(self, running.prepared, inst, record)
            except TaskFailure as exc:
                self._attempt_failed(inst, record, str(exc))
                return
            self._succeeded(inst, record, running.prepared)

    def _init_failure(self, running: _Running) -> str:
        """For a task with init containers: which one failed, if one did (its own command never ran)."""
        if not running.prepared.init_containers or running.prepared.log_path is None:
            return ""
        try:
            tail = running.prepared.log_path.read_bytes()[-4096:].decode(errors="replace")
        except OSError:
            return ""
        found = list(INIT_FAILED.finditer(tail.rpartition("--- attempt ")[2]))  # this attempt's only
        if not found:
            return ""
        name, code = found[-1].group("name"), found[-1].group("code")
        return f"init container {name!r} exited with code {code}; the step's own command did not run"

    def _missing_program(self, running: _Running, code: int) -> str:
        """For a container step whose shell could not find a program (exit 127): which one, and why."""
        container = running.prepared.component.container
        if code != 127 or container is None or running.prepared.log_path is None:
            return ""
        try:
            tail = running.prepared.log_path.read_bytes()[-4096:].decode(errors="replace")
        except OSError:
            return ""
        found = re.findall(r"(?:^|\n)(?:\S+: )*(?:line \d+: )?([\w.+-]+): (?:command )?not found", tail)
        if not found:
            return ""
        return (
            f": {found[-1]!r} is not installed on this machine (image {container.image} has it; container steps "
            "run on this machine's programs here); install it or put a stand-in on PATH"
        )

    # --- endings -----------------------------------------------------------------------------------------

    def _attempt_failed(self, inst: Instance, record: TaskRecord, reason: str) -> None:
        retry = self.spec.tasks[inst.task].retry
        if retry is not None and record.attempts <= retry.max_retries:
            delay = min(
                retry.backoff_duration * retry.backoff_factor ** (record.attempts - 1),
                retry.backoff_max_duration,
            )
            record.message = f"attempt {record.attempts} {reason}"
            self._changed(record)
            self.observer.task_retrying(record, delay, record.message)
            heapq.heappush(self.retries, (time.monotonic() + delay, next(self._counter), inst.id))
            return
        self._fail(inst, record, reason)

    def _fail(self, inst: Instance, record: TaskRecord, reason: str) -> None:
        attempts = f" (after {record.attempts} attempts)" if record.attempts > 1 else ""
        record.state, record.message, record.finished_at = TaskState.FAILED, reason + attempts, time.time()
        prepared = self.prepared.get(inst.id)
        if prepared is not None:
            prepared.close_log()
        self.plan.finish(inst, TaskState.FAILED, record.message)
        self._changed(record)
        self.observer.task_finished(record)

    def _succeeded(self, inst: Instance, record: TaskRecord, prepared: PreparedTask) -> None:
        record.state, record.message, record.finished_at = TaskState.SUCCEEDED, "", time.time()
        inst.outputs, inst.artifacts = dict(record.outputs), dict(record.output_artifacts)
        self.plan.finish(inst, TaskState.SUCCEEDED)
        for name, ref in record.output_artifacts.items():
            self.recorder.artifact_registered(self.run.run_id, record.name, name, ref)
            self.recorder.lineage_event(LineageEvent(self.run.run_id, record.name, "output", name, ref))
        if prepared.cache_key is not None:
            self.recorder.cache_put(
                CacheEntry(
                    prepared.cache_key,
                    dict(record.outputs),
                    dict(record.output_artifacts),
                    self.run.run_id,
                    record.name,
                    time.time(),
                )
            )
        prepared.close_log()
        self._changed(record)
        self.observer.task_finished(record)

    def _cache_hit(self, inst: Instance, record: TaskRecord, entry: CacheEntry) -> None:
        now = time.time()
        record.state, record.started_at, record.finished_at = TaskState.CACHED, now, now
        record.outputs, record.output_artifacts = dict(entry.outputs), dict(entry.output_artifacts)
        record.cached_from = f"{entry.run_id}/{entry.task}"
        inst.outputs, inst.artifacts = dict(entry.outputs), dict(entry.output_artifacts)
        self.plan.finish(inst, TaskState.CACHED)
        self._changed(record)
        self._input_lineage(record)
        for name, ref in entry.output_artifacts.items():
            self.recorder.lineage_event(LineageEvent(self.run.run_id, record.name, "output", name, ref))
        self.observer.task_finished(record)

    def _adopted(self, inst: Instance, record: TaskRecord, prepared: PreparedTask) -> bool:
        """The earlier execution's process of this task ended with code 0: take its outputs (True), or
        say nothing and let the task run again (False)."""
        try:
            code = (prepared.task_dir / EXIT_FILE).read_text().strip()
        except OSError:
            return False
        if code != "0":
            return False
        record.started_at = record.started_at or time.time()
        try:
            collect_outputs(self, prepared, inst, record)
        except TaskFailure:
            return False
        prepared.log.write(
            b"--- the process started before the restart ended with code 0; its outputs are kept ---\n"
        )
        self._succeeded(inst, record, prepared)
        return True

    def _resumed(self, inst: Instance, record: TaskRecord, done: ResumedTask) -> None:
        """A task finished in an earlier execution of this run: its outcome stands (not run, nor recorded
        again beyond its state)."""
        record.state, record.message, record.attempts = done.state, done.message, done.attempts
        record.outputs, record.output_artifacts = dict(done.outputs), dict(done.output_artifacts)
        record.started_at = record.finished_at = time.time()
        if done.state.has_outputs:
            inst.outputs, inst.artifacts = dict(done.outputs), dict(done.output_artifacts)
        self.plan.finish(inst, done.state, done.message)
        self._changed(record)
        self.observer.task_finished(record)

    def _abort(self, reason: str, cancelled: bool = False) -> None:
        """Stop every running task (its whole process group) and record the run's end."""
        task_state = TaskState.CANCELLED if cancelled else TaskState.FAILED
        for running in list(self.running.values()):
            running.process.kill(reason)
            with contextlib.suppress(Exception):
                running.process.popen.wait(timeout=5)
            running.process.close()
            record = self.records[running.inst.id]
            record.state, record.message, record.finished_at = task_state, reason, time.time()
            running.prepared.close_log()
            self._changed(record)
        self.running.clear()
        self.run.state = RunState.CANCELLED if cancelled else RunState.FAILED
        self.run.message, self.run.finished_at = reason, time.time()
        self.recorder.run_ended(self.run)
        with contextlib.suppress(Exception):
            self.observer.note(f"run {self.run.run_id} {reason}; recorded as {self.run.state.value}")

    def _finish(self) -> RunResult:
        loops = {}
        for (group, _scope), state in self.plan.loops.items():
            if state.skipped or state.failed:
                loops[group] = ("failed: " if state.failed else "skipped: ") + state.message
        for call in self.plan.recursions.values():
            target = self.spec.groups[call.group].recursive_ref
            if call.failed and target is not None:
                loops[target] = "failed: " + call.message
        failed_loops = [m for m in loops.values() if m.startswith("failed")]
        self.run.state = RunState.FAILED if self.plan.failed or self.timed_out else RunState.SUCCEEDED
        if self.timed_out:
            self.run.message = self.timed_out
        elif failed_loops:
            self.run.message = failed_loops[0]
        elif self.run.state == RunState.FAILED:
            failed = [r.name for r in self.records.values() if r.state == TaskState.FAILED]
            self.run.message = f"failed: {', '.join(failed)}"
        self.run.outputs = self.plan.pipeline_outputs()
        self.run.finished_at = time.time()
        self.recorder.run_ended(self.run)
        tasks = list(self.records.values())
        self.observer.run_finished(self.run, self.spec, tasks, loops)
        return RunResult(self.run, dict(self.records), self.spec)

    # --- used by pipelines.runner.task -------------------------------------------------------------------

    def python_for(self, component_key: str) -> str | None:
        """The interpreter of a component's cached environment, when one was prepared."""
        return self.pythons.get(component_key)
