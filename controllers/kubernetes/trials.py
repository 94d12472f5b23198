"""Trials on Kubernetes: a Trial object and its workload per attempt, judged by the workload's status.

`KubeTrialBackend` is the supervisor's `TrialBackend` for cluster trials and `KubeLauncher` its launcher, so
the operator drives exactly the reconcile loop `tuner run` drives (controllers.reconciler/supervisor).

Per trial (Katib's layout): a Trial custom resource owned by the Experiment (labels
`<group>/experiment=<experiment>`), and the workload rendered from `trialTemplate.trialSpec` with the same
name, owned by the Trial: deleting the Experiment cascades through the garbage collector. Every pod template
of the workload gets the label `<group>/trial=<trial>` (so the trial's pods can be found whatever the kind)
and the primary container gets the trial's identity in its environment (TUNER_TRIAL_NAME, KATIB_TRIAL_NAME,
TUNER_EXPERIMENT, TUNER_NAMESPACE, and TUNER_SERVER when the operator knows the server: `tuner.report`
then pushes its values there, into the store the operator reads).

A workload is judged Katib's way: `failureCondition` first, then `successCondition` (GJSON on the object,
controllers.kubernetes.gjson; defaults for Job and the Kubeflow jobs come from tuner.spec.defaults).
Metrics:
    StdOut   the primary container's log of every pod of the trial, read through the API once the workload
             ended, parsed by the same TextCollector as local trials (`name=value`, or the
             experiment's metricsFormat regexes such as `name: value`)
    File     the primary container's command is wrapped, as Katib wraps it for StdOut: `sh -c` runs the
             original command and arguments unchanged, then prints a marker line and the metrics file, and
             exits with the command's status; the operator reads the log after the marker with the File
             collector's parser (TEXT with metricsFormat, or JSON lines). Needs `sh` in the image and a
             `command` in the container (the image's entrypoint is not known here)
    Push     values reach the store through the server (`tuner.report` with TUNER_SERVER): nothing to read
    None     nothing collected
TensorFlowEvent, PrometheusMetric and Custom collectors need a sidecar, which this operator does not inject
yet: such experiments are refused up front with that message.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from controllers.collectors.base import Observation, declared_metrics
from controllers.collectors.jsonlines import JsonLinesCollector
from controllers.collectors.text import TextCollector
from controllers.kubernetes import gjson
from controllers.kubernetes.checkpoints import cluster_problems as checkpoint_problems
from controllers.kubernetes.checkpoints import mount_checkpoints, pbt_volume
from controllers.kubernetes.client import (
    PODS,
    AlreadyExistsError,
    KubeClient,
    KubeError,
    NotFoundError,
    Object,
    Resource,
    owner_reference,
)
from controllers.launchers.base import Handle, Launcher, LaunchRequest, Phase, RunInfo, Status
from controllers.rendering import TrialIdentity, render_trial_spec
from controllers.resources import Grant
from controllers.supervisor import TrialBackend
from tuner.errors import LaunchError, Problem
from tuner.spec import Experiment
from tuner.spec.collector import DEFAULT_METRICS_FILE, CollectorKind, FileFormat
from tuner.states import TrialState
from tuner.store.records import Trial

log = logging.getLogger("tuner.operator")

SUPPORTED_COLLECTORS = frozenset(
    {CollectorKind.STDOUT, CollectorKind.FILE, CollectorKind.PUSH, CollectorKind.NONE}
)
FILE_MARKER = "----- tuner: metrics file -----"
"""The line the File collector's wrapper prints before the metrics file (see the module docstring)."""
_WRAPPER = '"$@"; rc=$?; echo; echo "{marker}"; cat {path} 2>/dev/null; exit $rc'


def wrap_for_file_collector(container: dict[str, Any], path: str) -> None:
    """Run the container's command unchanged, then print the marker and the metrics file (module docstring)."""
    original = [*(container.get("command") or []), *(container.get("args") or [])]
    quoted = "'" + path.replace("'", "'\\''") + "'"
    container["command"] = ["sh", "-c", _WRAPPER.format(marker=FILE_MARKER, path=quoted), "--"]
    container["args"] = original


@dataclass(frozen=True)
class ApiGroup:
    """Which custom resources the operator reconciles: tuner's own, or Katib's (`--katib-compat`)."""

    group: str
    version: str = "v1beta1"
    label_prefix: str = ""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"

    @property
    def experiments(self) -> Resource:
        return Resource(self.group, self.version, "Experiment", "experiments")

    @property
    def trials(self) -> Resource:
        return Resource(self.group, self.version, "Trial", "trials")

    @property
    def experiment_label(self) -> str:
        return f"{self.label_prefix or self.group}/experiment"

    @property
    def trial_label(self) -> str:
        return f"{self.label_prefix or self.group}/trial"


TUNER_GROUP = ApiGroup("tuner.dev")
KATIB_GROUP = ApiGroup("kubeflow.org", label_prefix="katib.kubeflow.org")


def cluster_problems(experiment: Experiment) -> list[Problem]:
    """What this operator cannot run (yet), each with what to do instead."""
    problems: list[Problem] = []
    kind = experiment.spec.metrics_collector_kind
    if kind not in SUPPORTED_COLLECTORS:
        problems.append(
            Problem(
                "spec.metricsCollectorSpec.collector.kind",
                f"{kind.value} needs a metrics sidecar, which `tuner operator` does not inject yet; print "
                "`name=value` lines (StdOut) or call tuner.report with TUNER_SERVER set (Push)",
            )
        )
    problems += checkpoint_problems(experiment)
    template = experiment.spec.trial_template
    if kind == CollectorKind.FILE and template.trial_spec is not None:
        from tuner.spec.workload import find_container

        found = find_container(template.trial_spec, template.primary_container_name or "")
        if found is not None and not found[1].get("command"):
            problems.append(
                Problem(
                    f"spec.trialTemplate.trialSpec.{found[0]}.command",
                    "the File collector on a cluster wraps the primary container's command (Katib does the "
                    "same), so the container needs one: write the image's entrypoint as `command`",
                )
            )
    return problems


@dataclass
class KubeHandle(Handle):
    """One trial's workload on the cluster."""

    namespace: str
    trial: str
    api_version: str
    kind: str
    uid: str = ""
    cancelled: bool = False
    last: Status = field(default_factory=lambda: Status(Phase.RUNNING))

    @property
    def info(self) -> RunInfo:
        return RunInfo(
            "kubernetes",
            {
                "namespace": self.namespace,
                "name": self.trial,
                "apiVersion": self.api_version,
                "kind": self.kind,
                "uid": self.uid,
            },
        )


@dataclass(frozen=True)
class KubeTrialRequest:
    """The payload of a LaunchRequest for a cluster trial."""

    trial: str
    assignments: list[dict[str, str]]
    workload: dict[str, Any]


class KubeLauncher(Launcher):
    """Creates, judges and deletes trial workloads (see the module docstring)."""

    name = "kubernetes"

    def __init__(
        self,
        client: KubeClient,
        group: ApiGroup,
        experiment_object: Callable[[], Object],
        experiment: Experiment,
        on_event: Callable[[str], None] | None = None,
    ) -> None:
        self.client = client
        self.group = group
        self.experiment_object = experiment_object
        self.experiment = experiment
        self.on_event = on_event or (lambda _: None)
        template = experiment.spec.trial_template
        self.success = template.success_condition or ""
        self.failure = template.failure_condition or ""

    def _workload_resource(self, api_version: str, kind: str) -> Resource:
        try:
            return self.client.resource(api_version, kind)
        except NotFoundError as exc:
            raise LaunchError(
                f"spec.trialTemplate.trialSpec: the cluster serves no kind {kind!r} in {api_version!r}; "
                "install its CRD (or its operator) first"
            ) from exc

    def launch(self, request: LaunchRequest) -> Handle:
        payload: KubeTrialRequest = request.payload
        owner = self.experiment_object()
        namespace = owner["metadata"]["namespace"]
        trial_object = self._trial_object(owner, payload)
        try:
            trial_cr = self.client.create(self.group.trials, trial_object, namespace)
        except AlreadyExistsError:
            trial_cr = self.client.get(self.group.trials, payload.trial, namespace)
        workload = copy.deepcopy(payload.workload)
        workload.setdefault("metadata", {})["ownerReferences"] = [owner_reference(trial_cr)]
        resource = self._workload_resource(workload["apiVersion"], workload["kind"])
        try:
            created = self.client.create(resource, workload, namespace)
        except AlreadyExistsError:
            created = self.client.get(resource, payload.trial, namespace)
        except KubeError as exc:
            raise LaunchError(f"the cluster refused the trial's {workload['kind']}: {exc}") from exc
        self.on_event("trial_created")
        return KubeHandle(
            namespace, payload.trial, workload["apiVersion"], workload["kind"], created["metadata"]["uid"]
        )

    def _trial_object(self, owner: Object, payload: KubeTrialRequest) -> Object:
        spec = self.experiment.spec
        template = spec.trial_template
        labels = {self.group.experiment_label: owner["metadata"]["name"]}
        trial_spec: dict[str, Any] = {
            "objective": spec.objective.model_dump(mode="json", by_alias=True, exclude_none=True),
            "parameterAssignments": payload.assignments,
            "runSpec": payload.workload,
            "primaryContainerName": template.primary_container_name,
            "successCondition": self.success,
            "failureCondition": self.failure,
            "retainRun": bool(template.retain),
        }
        if spec.metrics_collector_spec is not None:
            trial_spec["metricsCollector"] = spec.metrics_collector_spec.model_dump(
                mode="json", by_alias=True, exclude_none=True
            )
        return {
            "apiVersion": self.group.api_version,
            "kind": "Trial",
            "metadata": {
                "name": payload.trial,
                "labels": labels,
                "ownerReferences": [owner_reference(owner)],
            },
            "spec": {k: v for k, v in trial_spec.items() if v is not None},
        }

    def poll(self, handle: Handle) -> Status:
        assert isinstance(handle, KubeHandle)
        if handle.cancelled:
            return Status(Phase.CANCELLED, message="the trial's workload was deleted")
        if handle.last.phase.is_done:
            return handle.last
        try:
            resource = self.client.resource(handle.api_version, handle.kind)
            workload = self.client.get(resource, handle.trial, handle.namespace)
        except NotFoundError:
            handle.last = Status(Phase.LOST, message=f"the {handle.kind} {handle.trial} was deleted")
            return handle.last
        except KubeError as exc:
            log.warning(
                "reading the workload failed; trying again", extra={"trial": handle.trial, "error": str(exc)}
            )
            return Status(Phase.RUNNING)
        handle.last = judge(workload, self.success, self.failure)
        return handle.last

    def cancel(self, handle: Handle, grace_seconds: float = 10.0) -> None:
        assert isinstance(handle, KubeHandle)
        if handle.last.phase.is_done or handle.cancelled:
            return
        handle.cancelled = True
        try:
            resource = self.client.resource(handle.api_version, handle.kind)
            self.client.delete(resource, handle.trial, handle.namespace, propagation="Background")
            self.on_event("trial_deleted")
        except NotFoundError:
            pass
        except KubeError as exc:
            log.warning(
                "deleting a trial's workload failed", extra={"trial": handle.trial, "error": str(exc)}
            )

    def delete_workload(self, name: str, namespace: str, api_version: str, kind: str) -> None:
        """Delete a finished trial's workload (its pods go with it, deleted by the garbage collector)."""
        try:
            resource = self.client.resource(api_version, kind)
            self.client.delete(resource, name, namespace, propagation="Background")
            self.on_event("trial_deleted")
        except NotFoundError:
            pass
        except KubeError as exc:
            log.warning(
                "deleting a finished trial's workload failed", extra={"trial": name, "error": str(exc)}
            )

    def attach(self, info: RunInfo) -> Handle | None:
        data = info.data
        if info.launcher != self.name:
            return None
        handle = KubeHandle(
            str(data.get("namespace")),
            str(data.get("name")),
            str(data.get("apiVersion")),
            str(data.get("kind")),
        )
        try:
            resource = self.client.resource(handle.api_version, handle.kind)
            found = self.client.get(resource, handle.trial, handle.namespace)
        except KubeError:
            return None
        handle.uid = found["metadata"]["uid"]
        return handle

    def recover(self, request: LaunchRequest) -> Handle | None:
        payload: KubeTrialRequest = request.payload
        workload = payload.workload
        namespace = self.experiment_object()["metadata"]["namespace"]
        return self.attach(
            RunInfo(
                self.name,
                {
                    "namespace": namespace,
                    "name": payload.trial,
                    "apiVersion": workload["apiVersion"],
                    "kind": workload["kind"],
                },
            )
        )

    def wait(self, handles: list[Handle], timeout: float) -> None:
        if timeout > 0:
            time.sleep(timeout)


def judge(workload: Mapping[str, Any], success: str, failure: str) -> Status:
    """Katib's reading of a workload: failureCondition first, then successCondition, else running."""
    if failure and gjson.is_true(workload, failure):
        reason, message = gjson.matched_detail(workload, failure)
        return Status(
            Phase.FAILED, message=": ".join(p for p in (reason, message) if p) or "failureCondition holds"
        )
    if success and gjson.is_true(workload, success):
        return Status(Phase.SUCCEEDED, exit_code=0)
    return Status(Phase.RUNNING)


def label_pod_templates(node: Any, labels: Mapping[str, str]) -> None:
    """Add `labels` to every pod template (`template: {metadata, spec: {containers}}`) inside the workload."""
    if isinstance(node, dict):
        template = node.get("template")
        if (
            isinstance(template, dict)
            and isinstance(template.get("spec"), dict)
            and "containers" in template["spec"]
        ):
            metadata = template.setdefault("metadata", {})
            metadata["labels"] = {**(metadata.get("labels") or {}), **labels}
        for value in node.values():
            label_pod_templates(value, labels)
    elif isinstance(node, list):
        for item in node:
            label_pod_templates(item, labels)


def add_env(container: dict[str, Any], env: Mapping[str, str]) -> None:
    """Set the variables in the container's env (replacing ones of the same name)."""
    kept = [e for e in container.get("env") or [] if e.get("name") not in env]
    container["env"] = kept + [{"name": k, "value": v} for k, v in env.items()]


@dataclass
class _Collection:
    done: bool = False
    note: str = ""


class KubeTrialBackend(TrialBackend):
    """The supervisor's view of cluster trials (see the module docstring)."""

    launcher: KubeLauncher

    def __init__(
        self,
        launcher: KubeLauncher,
        experiment: Experiment,
        namespace: str,
        server_url: str | None = None,
    ) -> None:
        self.launcher = launcher
        self.experiment = experiment
        self.namespace = namespace
        self.server_url = server_url
        spec = experiment.spec
        template = spec.trial_template
        self.trial_spec: dict[str, Any] = dict(template.trial_spec or {})
        self.trial_parameters = [(p.name or "", p.reference or "") for p in template.trial_parameters or []]
        self.container_name = template.primary_container_name or ""
        self.metrics = declared_metrics(
            spec.objective.objective_metric_name or "", spec.objective.metric_names[1:]
        )
        source = spec.metrics_collector_spec.source if spec.metrics_collector_spec else None
        self.filters = (
            list(source.filter.metrics_format)
            if source and source.filter and source.filter.metrics_format
            else None
        )
        fs = source.file_system_path if source else None
        self.file_path = fs.path if fs and fs.path else DEFAULT_METRICS_FILE
        self.file_json = bool(fs and fs.format == FileFormat.JSON)
        self.kind = spec.metrics_collector_kind
        self.tails: dict[str, list[str]] = {}

    def run_spec(self, trial: str, assignment: Mapping[str, str]) -> dict[str, Any] | None:
        identity = TrialIdentity(
            trial,
            self.namespace,
            str(self.trial_spec.get("kind", "")),
            str(self.trial_spec.get("apiVersion", "")),
            {},
            {},
        )
        workload = render_trial_spec(self.trial_spec, self.trial_parameters, assignment, identity)
        workload["metadata"].pop("namespace", None)
        group = self.launcher.group
        label_pod_templates(
            workload, {group.trial_label: trial, group.experiment_label: self.experiment.name}
        )
        env = {
            "TUNER_TRIAL_NAME": trial,
            "KATIB_TRIAL_NAME": trial,
            "TUNER_EXPERIMENT": self.experiment.name,
            "TUNER_NAMESPACE": self.namespace,
        }
        if self.server_url:
            env["TUNER_SERVER"] = self.server_url
        from tuner.spec.workload import containers

        for _, container in containers(workload):
            if container.get("name") == self.container_name:
                add_env(container, env)
                if self.kind == CollectorKind.FILE:
                    wrap_for_file_collector(container, self.file_path)
        return workload

    def request(self, trial: Trial, attempt: int, grant: Grant | None) -> LaunchRequest:
        workload = trial.run_spec or self.run_spec(trial.name, trial.assignment_values()) or {}
        volume = pbt_volume(self.experiment)
        if volume is not None:  # pbt: the trial's checkpoint folder on the shared volume (from its labels)
            workload = copy.deepcopy(workload)
            mount_checkpoints(
                workload, self.container_name, self.experiment.name, trial.name, trial.labels, *volume
            )
        assignments = [{"name": a.name, "value": a.value} for a in trial.assignments]
        return LaunchRequest(
            trial=trial.name, attempt=attempt, payload=KubeTrialRequest(trial.name, assignments, workload)
        )

    def start_collecting(self, trial: Trial) -> _Collection:
        return _Collection()

    def collect(self, trial: Trial, state: Any, handle: Handle, final: bool) -> list[Observation]:
        if not final or state.done or self.kind not in (CollectorKind.STDOUT, CollectorKind.FILE):
            return []
        state.done = True
        found: list[Observation] = []
        lines: list[str] = []
        for text in self.pod_logs(trial.name):
            output, _, metrics_file = text.partition(FILE_MARKER + "\n")
            lines += output.splitlines()
            found += self.parse(metrics_file if self.kind == CollectorKind.FILE else text)
        self.tails[trial.name] = lines[-20:]
        return found

    def parse(self, text: str) -> list[Observation]:
        """Observations in one pod's log (StdOut) or metrics file (File), with the experiment's format."""
        collector: TextCollector | JsonLinesCollector = (
            JsonLinesCollector(self.metrics)
            if self.kind == CollectorKind.FILE and self.file_json
            else TextCollector(self.metrics, self.filters)
        )
        return [*collector.feed(text), *collector.finish()]

    def pod_logs(self, trial: str) -> list[str]:
        """The primary container's log of each pod of the trial (none when no kubelet ran them)."""
        selector = f"{self.launcher.group.trial_label}={trial}"
        try:
            pods, _ = self.launcher.client.list(PODS, self.namespace, label_selector=selector)
        except KubeError as exc:
            log.warning("listing a trial's pods failed", extra={"trial": trial, "error": str(exc)})
            return []
        texts = []
        for pod in pods:
            name = pod["metadata"]["name"]
            try:
                texts.append(self.launcher.client.pod_log(self.namespace, name, self.container_name or None))
            except KubeError as exc:
                log.info("no log for a trial's pod", extra={"trial": trial, "pod": name, "error": str(exc)})
        return texts

    def tail(self, trial: Trial) -> list[str]:
        return self.tails.get(trial.name, [])


def trial_condition_state(state: TrialState) -> str:
    """The Trial condition type for a store state (Katib's names)."""
    return {
        TrialState.CREATED: "Created",
        TrialState.RUNNING: "Running",
        TrialState.SUCCEEDED: "Succeeded",
        TrialState.FAILED: "Failed",
        TrialState.KILLED: "Killed",
        TrialState.EARLY_STOPPED: "EarlyStopped",
        TrialState.METRICS_UNAVAILABLE: "MetricsUnavailable",
    }.get(state, state.value)
