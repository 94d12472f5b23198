"""Katib trial templates as local processes: what can run here, and the launch request of each trial.

`LocalTrialPlan.check` refuses, before anything runs or is stored, what needs a cluster (nasConfig, the
TensorFlowEvent/Custom/PrometheusMetric collectors), a configMap template that cannot be found next to the
experiment file (or whose template is not YAML), a primary container without a command (its image's
entrypoint is not available here), resources or Job limits that vary per trial (`${trialParameters.x}`:
here they are read once) and resource requests this machine can never satisfy (`controllers.admission`
runs it for `tuner run` and `tuner validate --local`). `LocalTrialPlan.request` renders one trial: the
template with its `${trialParameters.x}` substituted as Katib does, then the primary container's `command`
+ `args` with Kubernetes' `$(VAR)` expansion, its `env`, the trial's identity, a private working directory
and log file, the File collector's path rewritten into the trial's folder, `activeDeadlineSeconds` as a
deadline.

Layout of a trial's folder (under `<data dir>/runs/<namespace>/<experiment>/<trial>/`):
The program runs with tuner's own interpreter folder first on PATH, so `python3` in a command is the Python
(and virtual environment) tuner runs in, and with PYTHONUNBUFFERED=1 so metrics stream while it runs.

    work/            the process's working directory (private: trials never share files by accident)
    trial.log        stdout and stderr, every attempt, in the order written
    push.jsonl       values reported with `tuner.report` (TUNER_METRICS_FILE)
    checkpoint/      the trial's checkpoint folder (TUNER_CHECKPOINT_DIR; pbt seeds it with the parent's, and
                     pbt's `suggestion_trial_dir` in the command, arguments or env means this folder)
    collector/...    the File collector's file, at its original absolute path below this folder
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from controllers.checkpoints import CHECKPOINT_ENV, prepare_checkpoint, rewrite_mount_path
from controllers.collectors.base import declared_metrics
from controllers.collectors.follow import FileFollower
from controllers.collectors.jsonlines import JsonLinesCollector
from controllers.collectors.text import TextCollector
from controllers.kubernetes.checkpoints import pbt_volume
from controllers.launchers.base import LaunchRequest
from controllers.rendering import (
    TrialIdentity,
    container_env,
    expand_env_references,
    primary_container,
    render_trial_spec,
)
from controllers.resources import Grant, Request, ResourcePool, request_of
from controllers.workload_rules import JOB_COUNTS, is_placeholder, workload_problems
from suggestions.registry import NOT_AVAILABLE
from tuner.errors import Problem
from tuner.spec import Experiment
from tuner.spec.collector import CollectorKind, FileFormat
from tuner.spec.config_map import TemplateNotFound, config_map_template
from tuner.spec.workload import TRAIN_JOB_KIND, argo_primary_steps, is_argo_workflow, is_pipeline_run

UNSUPPORTED_COLLECTORS = {
    CollectorKind.TENSORFLOW_EVENT: "read the events in your code and print `name=value` lines (StdOut) or use Push",
    CollectorKind.CUSTOM: "a custom collector is a sidecar container; print `name=value` lines or use Push",
    CollectorKind.PROMETHEUS_METRIC: "scraping needs a cluster; print `name=value` lines or use Push",
}

Collector = TextCollector | JsonLinesCollector


@dataclass(frozen=True)
class LocalContext:
    """Where an experiment's files live on this machine."""

    experiment_dir: Path  # the folder of the experiment file: $(TUNER_EXPERIMENT_DIR), configMap lookup
    runs_dir: Path  # <data dir>/runs/<namespace>/<experiment>
    store_url: str
    base_env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


@dataclass
class TrialFiles:
    """The files of one trial (see the module docstring)."""

    root: Path

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def log(self) -> Path:
        return self.root / "trial.log"

    @property
    def push(self) -> Path:
        return self.root / "push.jsonl"

    def collector_file(self, path: str) -> Path:
        return self.root / "collector" / path.lstrip("/")


@dataclass
class MetricSource:
    """A file followed while the trial runs and the collector that reads it."""

    follower: FileFollower
    collector: Collector


class LocalTrialPlan:
    """How every trial of one experiment runs as a local process (see the module docstring)."""

    def __init__(self, experiment: Experiment, context: LocalContext) -> None:
        self.experiment = experiment
        self.context = context
        self.trial_spec = self._template(experiment, context)
        template = experiment.spec.trial_template
        self.container_name = template.primary_container_name or ""
        self.container = primary_container(self.trial_spec or {}, self.container_name)
        self.resources: Request = request_of(self.container)
        job_spec = (self.trial_spec or {}).get("spec") or {}
        deadline = job_spec.get("activeDeadlineSeconds")
        self.deadline_seconds: float | None = float(deadline) if deadline is not None else None
        backoff = job_spec.get("backoffLimit")
        # Kubernetes defaults an unset backoffLimit to 6 pod retries; locally a failure is almost always
        # deterministic (a bug, bad arguments), so an unset backoffLimit means no retry here.
        self.retries: int = int(backoff) if backoff is not None else 0
        self.metrics = declared_metrics(
            experiment.spec.objective.objective_metric_name or "",
            experiment.spec.objective.metric_names[1:],  # other objectives too (tuner's extension)
        )

    # -- what cannot run here -------------------------------------------------------------------
    @classmethod
    def check(cls, experiment: Experiment, context: LocalContext, pool: ResourcePool) -> list[Problem]:
        """Everything that stops this experiment from running locally, each with what to do instead."""
        problems: list[Problem] = []
        spec = experiment.spec
        if spec.nas_config is not None and spec.algorithm_name not in NOT_AVAILABLE:
            # (a NAS algorithm's own refusal already says this, naming algorithmName)
            problems.append(
                Problem(
                    "spec.nasConfig",
                    "neural architecture search (ENAS/DARTS) needs a Kubernetes cluster; "
                    "describe the architecture choices as `parameters` to tune them here",
                )
            )
        kind = spec.metrics_collector_kind
        if kind in UNSUPPORTED_COLLECTORS:
            problems.append(
                Problem(
                    "spec.metricsCollectorSpec.collector.kind",
                    f"{kind.value} is not available locally: {UNSUPPORTED_COLLECTORS[kind]}",
                )
            )
        collector_spec = spec.metrics_collector_spec
        source = collector_spec.source if collector_spec else None
        fs_path = source.file_system_path if source else None
        if (
            kind == CollectorKind.FILE
            and fs_path is not None
            and str(getattr(fs_path.kind, "value", "File")) == "Directory"
        ):
            problems.append(
                Problem(
                    "spec.metricsCollectorSpec.source.fileSystemPath.kind",
                    "a Directory of metrics files is not supported locally; name one file (kind: File)",
                )
            )
        try:
            trial_spec = cls._template(experiment, context)
        except TemplateNotFound as missing:
            problems.append(missing.problem)
            return problems
        workload = workload_problems(trial_spec or {})
        if spec.trial_template.trial_spec is None and workload:
            # a configMap template: its values were not checked with the experiment, so report them here
            cm = spec.trial_template.config_map
            what = f"{cm.template_path!r} of ConfigMap {cm.config_map_name!r}" if cm else "the template"
            problems += [Problem("spec.trialTemplate.configMap", f"in {what}: {p}") for p in workload]
        if is_pipeline_run(trial_spec):
            pipeline = _pipeline_path(trial_spec or {}, context.experiment_dir)
            if not pipeline.exists():
                problems.append(
                    Problem(
                        "spec.trialTemplate.trialSpec.spec.pipeline",
                        f"{pipeline} does not exist (the path is relative to the experiment file's folder)",
                    )
                )
            return problems
        cluster_only = _cluster_only_workload(trial_spec or {}, spec.trial_template.primary_pod_labels)
        if cluster_only is not None:
            problems.append(cluster_only)
            return problems
        name = spec.trial_template.primary_container_name or ""
        container = primary_container(trial_spec or {}, name)
        if container is None:
            problems.append(
                Problem(
                    "spec.trialTemplate.primaryContainerName",
                    f"no container named {name!r} in the trial template",
                )
            )
            return problems
        if not container.get("command"):
            problems.append(
                Problem(
                    "spec.trialTemplate.trialSpec",
                    f"container {name!r} has no `command`: locally the image's entrypoint is not available, "
                    "so write the program to run as `command` (and its arguments in `command` or `args`)",
                )
            )
        per_trial = _per_trial_fields(trial_spec or {}, container)
        for name_of_field in per_trial:
            problems.append(
                Problem(
                    "spec.trialTemplate.trialSpec",
                    f"{name_of_field} holds a ${{trialParameters...}} placeholder: locally it is read "
                    "once for all trials; write a fixed value to run here",
                )
            )
        if workload or per_trial:
            return problems  # the amounts cannot be read: the resource check below would be meaningless
        why = pool.never_fits(request_of(container))
        if why:
            problems.append(
                Problem(
                    f"spec.trialTemplate.trialSpec (container {name!r} resources)",
                    f"each trial {why}; lower the request to run here",
                )
            )
        return problems

    def notes(self) -> list[str]:
        """Things the user should know once (images are not used; env sources that cannot be read)."""
        notes: list[str] = []
        image = (self.container or {}).get("image")
        if image:
            notes.append(
                f"container image {image!r} is not used locally: trials run `command` on this machine"
            )
        identity = self._identity("trial")
        _, unsupported = container_env(self.container or {}, identity)
        if unsupported:
            notes.append(
                "environment entries read from the cluster are left out locally: " + ", ".join(unsupported)
            )
        volume = pbt_volume(self.experiment)  # (claim, mount path): what `tuner operator` would mount
        if volume is not None:
            notes.append(
                f"checkpoint_volume {volume[0]!r} is used under `tuner operator` only: here each trial's checkpoint "
                f"folder is under {self.context.runs_dir}"
            )
        return notes

    # -- one trial ------------------------------------------------------------------------------
    def files(self, trial: str) -> TrialFiles:
        return TrialFiles(self.context.runs_dir / trial)

    def rendered(self, trial: str, assignment: Mapping[str, str]) -> dict[str, Any]:
        """The trial's workload: the template with its placeholders substituted and its name set."""
        template = self.experiment.spec.trial_template
        parameters = [(p.name or "", p.reference or "") for p in template.trial_parameters or []]
        return render_trial_spec(self.trial_spec or {}, parameters, assignment, self._identity(trial))

    def request(
        self,
        trial: str,
        assignment: Mapping[str, str],
        attempt: int,
        grant: Grant | None,
        labels: Mapping[str, str] | None = None,
    ) -> LaunchRequest:
        """The launch request of one attempt; creates the trial's folders (its checkpoint folder too)."""
        identity = self._identity(trial)
        rendered = self.rendered(trial, assignment)
        files = self.files(trial)
        files.work.mkdir(parents=True, exist_ok=True)
        checkpoint = prepare_checkpoint(self.context.runs_dir, trial, labels)
        if is_pipeline_run(rendered):
            return LaunchRequest(
                trial=trial,
                argv=pipeline_command(rendered, self.context.experiment_dir),
                env={**self._environment(trial, files, {}, identity, grant), **checkpoint},
                workdir=files.work,
                log_path=files.log,
                attempt=attempt,
                deadline_seconds=self.deadline_seconds,
            )
        container = primary_container(rendered, self.container_name) or {}
        env = {**self._environment(trial, files, container, identity, grant), **checkpoint}
        argv = [
            expand_env_references(str(a), env)
            for a in [*(container.get("command") or []), *(container.get("args") or [])]
        ]
        mount = self.experiment.spec.algorithm.settings().get("suggestion_trial_dir")  # pbt's
        own = checkpoint[CHECKPOINT_ENV]
        argv = [rewrite_mount_path(a, mount, own) for a in argv]
        declared = container_env(container, identity)[0]  # only the template's own variables
        env = {k: rewrite_mount_path(v, mount, own) if k in declared else v for k, v in env.items()}
        collector_path = self._collector_path()
        if collector_path:
            private = str(files.collector_file(collector_path))
            Path(private).parent.mkdir(parents=True, exist_ok=True)
            argv = [a.replace(collector_path, private) for a in argv]
            env = {k: v.replace(collector_path, private) for k, v in env.items()}
        workdir = files.work
        if container.get("workingDir"):
            workdir = (self.context.experiment_dir / str(container["workingDir"])).resolve()
        return LaunchRequest(
            trial=trial,
            argv=argv,
            env=env,
            workdir=workdir,
            log_path=files.log,
            attempt=attempt,
            deadline_seconds=self.deadline_seconds,
        )

    def metric_sources(self, trial: str) -> list[MetricSource]:
        """What to follow for this trial's metrics: the declared collector, plus `tuner.report` values."""
        files = self.files(trial)
        kind = self.experiment.spec.metrics_collector_kind
        sources: list[MetricSource] = []
        if is_pipeline_run(self.trial_spec):
            # a pipeline trial's metrics are the run's numeric outputs and logged metrics, reported once it
            # succeeded; its tasks' printed lines are logs, not metrics
            return [MetricSource(FileFollower(files.push), JsonLinesCollector(self.metrics))]
        if kind == CollectorKind.STDOUT:
            sources.append(
                MetricSource(FileFollower(files.log), TextCollector(self.metrics, self._filters()))
            )
        elif kind == CollectorKind.FILE:
            path = files.collector_file(self._collector_path() or "")
            fmt = self._file_format()
            collector: Collector = (
                JsonLinesCollector(self.metrics)
                if fmt == FileFormat.JSON
                else TextCollector(self.metrics, self._filters())
            )
            sources.append(MetricSource(FileFollower(path), collector))
        if kind != CollectorKind.NONE:
            sources.append(MetricSource(FileFollower(files.push), JsonLinesCollector(self.metrics)))
        return sources

    # -- helpers --------------------------------------------------------------------------------
    def _environment(
        self,
        trial: str,
        files: TrialFiles,
        container: Mapping[str, Any],
        identity: TrialIdentity,
        grant: Grant | None,
    ) -> dict[str, str]:
        own, _ = container_env(container, identity)
        identity_env = {
            "TUNER_TRIAL_NAME": trial,
            "KATIB_TRIAL_NAME": trial,
            "TUNER_EXPERIMENT": self.experiment.name,
            "TUNER_NAMESPACE": self.experiment.namespace,
            "TUNER_STORE": self.context.store_url,
            "TUNER_EXPERIMENT_DIR": str(self.context.experiment_dir),
            "TUNER_TRIAL_DIR": str(files.root),
            "TUNER_METRICS_FILE": str(files.push),
        }
        env = {**self.context.base_env, "PYTHONUNBUFFERED": "1", **identity_env, **own}
        if "PATH" not in own:
            # `python3` in a command means the Python tuner runs in (its virtual environment), as the
            # image's Python would on a cluster, not whatever python3 comes first on the user's PATH
            interpreter_dir = os.path.dirname(sys.executable)
            env["PATH"] = os.pathsep.join([interpreter_dir, env.get("PATH", os.defpath)])
        if grant is not None:
            env.update(grant.env())
        return env

    def _identity(self, trial: str) -> TrialIdentity:
        metadata = (self.trial_spec or {}).get("metadata") or {}
        return TrialIdentity(
            name=trial,
            namespace=self.experiment.namespace,
            kind=str((self.trial_spec or {}).get("kind", "")),
            api_version=str((self.trial_spec or {}).get("apiVersion", "")),
            labels=dict(metadata.get("labels") or {}),
            annotations=dict(metadata.get("annotations") or {}),
        )

    def _collector_path(self) -> str | None:
        spec = self.experiment.spec
        if spec.metrics_collector_kind != CollectorKind.FILE:
            return None
        source = spec.metrics_collector_spec.source if spec.metrics_collector_spec else None
        fs = source.file_system_path if source else None
        return fs.path if fs and fs.path else None

    def _file_format(self) -> FileFormat:
        spec = self.experiment.spec
        source = spec.metrics_collector_spec.source if spec.metrics_collector_spec else None
        fs = source.file_system_path if source else None
        return fs.format if fs and fs.format else FileFormat.TEXT

    def _filters(self) -> list[str] | None:
        spec = self.experiment.spec
        source = spec.metrics_collector_spec.source if spec.metrics_collector_spec else None
        return (
            list(source.filter.metrics_format)
            if source and source.filter and source.filter.metrics_format
            else None
        )

    @staticmethod
    def _template(experiment: Experiment, context: LocalContext) -> dict[str, Any] | None:
        template = experiment.spec.trial_template
        if template.trial_spec is not None:
            return template.trial_spec
        return config_map_template(experiment, context.experiment_dir)


def _cluster_only_workload(
    workload: Mapping[str, Any], pod_labels: Mapping[str, str] | None
) -> Problem | None:
    """Why a workload whose pods another controller creates cannot run here, and what to do instead."""
    kind = workload.get("kind")
    if is_argo_workflow(workload):
        steps = argo_primary_steps(workload, pod_labels)
        if steps:
            which = f"template {', '.join(repr(s) for s in steps)}"
            which += " (its pod carries spec.trialTemplate.primaryPodLabels)" if pod_labels else ""
            todo = "or write that step as a batch/v1 Job trialSpec to run it here"
        else:
            which = "none: no container template matches spec.trialTemplate.primaryPodLabels"
            todo = "or write the training step as a batch/v1 Job trialSpec to run it here"
        return Problem(
            "spec.trialTemplate.trialSpec",
            "an Argo Workflow runs its steps as pods under Argo's controller, which needs a Kubernetes "
            f"cluster, while here each trial is one local process; the step Katib would run and collect "
            f"metrics from is {which}. Run this experiment with Katib on Kubernetes (with Argo installed), "
            f"{todo}",
        )
    if kind == TRAIN_JOB_KIND:
        runtime = (workload.get("spec") or {}).get("runtimeRef") or {}
        name = f" {runtime.get('name')!r}" if isinstance(runtime, dict) and runtime.get("name") else ""
        return Problem(
            "spec.trialTemplate.trialSpec",
            f"a TrainJob's pods are made by Kubeflow Trainer from its training runtime{name} "
            "(spec.runtimeRef), which exists only in a cluster; run this experiment with Katib on "
            "Kubernetes, or write the trainer's command as a batch/v1 Job trialSpec to run it here",
        )
    return None


def _per_trial_fields(workload: Mapping[str, Any], container: Mapping[str, Any]) -> list[str]:
    """The fields tuner reads once per experiment that hold a per-trial `${trialParameters.x}`."""
    fields: list[str] = []
    resources = container.get("resources")
    if isinstance(resources, Mapping):
        for section in ("limits", "requests"):
            values = resources.get(section)
            if isinstance(values, Mapping):
                fields += [f"resources.{section}.{k}" for k, v in values.items() if is_placeholder(v)]
    spec = workload.get("spec")
    if isinstance(spec, Mapping):
        fields += [f"spec.{k}" for k in JOB_COUNTS if is_placeholder(spec.get(k))]
    return fields


def _pipeline_path(workload: Mapping[str, Any], experiment_dir: Path) -> Path:
    return (experiment_dir / str((workload.get("spec") or {}).get("pipeline", ""))).resolve()


def pipeline_command(workload: Mapping[str, Any], experiment_dir: Path) -> list[str]:
    """A PipelineRun trial as a command: `tuner pipelines run FILE --arg k=v ... --report-metrics`.

    The run is recorded in the store linked to the trial, its tasks' output goes to the trial's log, and its
    numeric outputs and logged metrics come back as the trial's metrics (through `tuner.report`).
    """
    spec = workload.get("spec") or {}
    argv = [
        sys.executable,
        "-m",
        "tuner.cli",
        "pipelines",
        "run",
        str(_pipeline_path(workload, experiment_dir)),
    ]
    if spec.get("pipelineName"):
        argv += ["--pipeline", str(spec["pipelineName"])]
    for key, value in (spec.get("arguments") or {}).items():
        argv += ["--arg", f"{key}={value}"]
    if spec.get("parallelism"):
        argv += ["--parallelism", str(spec["parallelism"])]
    if spec.get("enableCaching") is False:
        argv.append("--no-cache")
    return [*argv, "--report-metrics"]
