"""`tuner operator`: Experiments on the cluster driven by the same reconcile loop as `tuner run`.

One worker thread per Experiment object runs `controllers.run.ExperimentRunner` (store lease, reconcile
passes, suggestion algorithm in-process or over HTTP) with `KubeTrialBackend` (a Trial object and a workload
per trial). After every pass the store's status is mirrored onto the Experiment and its Trials
(`StatusMirror`), so `kubectl get experiments` and the dashboard (which reads the store) agree.

Watching: per namespace of `--namespace` (a comma list), or cluster-wide; list first, then watch from the
list's resourceVersion; a stream that ends or breaks is listed and watched again (which also resyncs).
Events:
    ADDED / MODIFIED   start a worker unless one runs for this object (same uid); a changed generation (the
                       editable counts) restarts the worker, which resumes from the store with the new counts
                       and adopts the running trials
    DELETED            stop the worker: its running trials' workloads are deleted (the garbage collector
                       removes Trials and workloads anyway through their ownerReferences)
An object recreated under a name the store holds for another uid replaces the stored experiment: the cluster
is the truth for cluster experiments. An invalid object gets the Failed condition with every problem in the
message (no webhook guards the CRD).

With `--leader-elect` nothing is watched until this replica holds the Lease `tuner-operator` in its
namespace; losing it stops everything (the process exits and its Deployment restarts it). Stopping the
operator (SIGTERM, a lost lease) stops driving but leaves the trials running: the store says which, and the
next leader adopts them (`ExperimentRunner` resumes, the launcher finds each workload by name).
A finished trial's workload is deleted unless `trialTemplate.retain` (Katib's rule); running trials of an
experiment that ended are deleted and recorded Killed.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import yaml

import suggestions
from controllers.admission import experiment_checks
from controllers.errors import PermanentError
from controllers.kubernetes.client import ConflictError, KubeClient, KubeError, Object, Resource
from controllers.kubernetes.client import NotFoundError as NotFoundInCluster
from controllers.kubernetes.leader import LeaderElector
from controllers.kubernetes.mirror import StatusMirror, write_status
from controllers.kubernetes.telemetry import OperatorMetrics
from controllers.kubernetes.trials import (
    TUNER_GROUP,
    ApiGroup,
    KubeLauncher,
    KubeTrialBackend,
    cluster_problems,
)
from controllers.run import ExperimentRunner
from controllers.status import conditions_for, no_optimal_trial, now_rfc3339
from controllers.suggest import in_process, remote
from controllers.supervisor import Settled
from suggestions.client import SuggestionClient
from tuner.errors import LeaseHeldError, NotFoundError, Problem, SpecError
from tuner.space import SearchSpace
from tuner.spec import Experiment, load_experiment
from tuner.spec.collector import CollectorKind
from tuner.states import ExperimentReason, ExperimentState, TrialState
from tuner.store import Store

log = logging.getLogger("tuner.operator")

UID_ANNOTATION = "tuner.dev/uid"
"""The stored experiment's annotation naming the cluster object it belongs to."""
KEPT_METADATA = ("name", "namespace", "labels", "annotations")


@dataclass
class OperatorConfig:
    """How `tuner operator` runs (the CLI's options)."""

    namespaces: list[str] | None = None  # None: every namespace
    group: ApiGroup = TUNER_GROUP
    server_url: str | None = None  # TUNER_SERVER given to trials (push)
    suggestion_service: str | None = None  # URL of `tuner suggestion-server`; None: in-process
    suggestion_timeout: float = 60.0
    poll_interval: float = 1.0
    watch_timeout: int = 60
    leader_elect: bool = False
    lease_namespace: str = "default"
    lease_name: str = "tuner-operator"
    identity: str = field(default_factory=lambda: f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}")


def spec_document(obj: Object) -> dict[str, Any]:
    """The object as an experiment document: no status, only the metadata a user writes, plus its uid."""
    meta = obj.get("metadata") or {}
    kept = {k: meta[k] for k in KEPT_METADATA if meta.get(k)}
    kept["annotations"] = {**(meta.get("annotations") or {}), UID_ANNOTATION: meta.get("uid", "")}
    kept["annotations"].pop("kubectl.kubernetes.io/last-applied-configuration", None)
    return {
        "apiVersion": obj.get("apiVersion"),
        "kind": obj.get("kind"),
        "metadata": kept,
        "spec": obj.get("spec") or {},
    }


CONFIG_MAPS = Resource("", "v1", "ConfigMap", "configmaps")


def inline_config_map(document: dict[str, Any], client: KubeClient | None) -> None:
    """Replace a `trialTemplate.configMap` by the workload it names, read from the cluster (as Katib does),
    so that the defaults for the workload's kind (success/failure conditions) apply as to an inline one."""
    template = (document.get("spec") or {}).get("trialTemplate") or {}
    source = template.get("configMap")
    if client is None or not isinstance(source, dict) or template.get("trialSpec") is not None:
        return
    at = "spec.trialTemplate.configMap"
    name, path = source.get("configMapName"), source.get("templatePath")
    namespace = source.get("configMapNamespace") or (document.get("metadata") or {}).get("namespace")
    if not name or not path:
        return  # the spec's own rules name what is missing
    try:
        data = client.get(CONFIG_MAPS, name, namespace).get("data") or {}
    except NotFoundInCluster:
        raise SpecError(
            [Problem(f"{at}.configMapName", f"no ConfigMap {namespace}/{name} in the cluster")]
        ) from None
    except KubeError as exc:
        hint = " (grant the operator's ServiceAccount `get` on configmaps)" if exc.status == 403 else ""
        raise SpecError(
            [Problem(f"{at}.configMapName", f"cannot read ConfigMap {namespace}/{name}: {exc}{hint}")]
        ) from None
    if path not in data:
        keys = ", ".join(sorted(data)) or "none"
        raise SpecError(
            [
                Problem(
                    f"{at}.templatePath", f"ConfigMap {namespace}/{name} has no key {path!r} (keys: {keys})"
                )
            ]
        )
    try:
        workload = yaml.safe_load(data[path])
    except yaml.YAMLError as exc:
        raise SpecError(
            [Problem(f"{at}.templatePath", f"{path!r} of ConfigMap {name} is not YAML: {exc}")]
        ) from None
    if not isinstance(workload, dict):
        raise SpecError(
            [Problem(f"{at}.templatePath", f"{path!r} of ConfigMap {name} does not hold an object")]
        )
    template["trialSpec"] = workload
    del template["configMap"]


def parse(obj: Object, client: KubeClient | None = None) -> Experiment:
    """The object checked as `tuner validate` checks a file, plus what the operator cannot run; a
    configMap template is read from the cluster through `client`."""
    name = f"{obj['metadata'].get('namespace')}/{obj['metadata'].get('name')}"
    checks = [*experiment_checks(None), cluster_problems]
    document = spec_document(obj)
    inline_config_map(document, client)
    return load_experiment(document, source_name=name, extra_checks=checks)


class Detached(Exception):
    """Raised between passes to stop driving an experiment without touching its trials."""


class Worker:
    """Drives one Experiment object in its own thread."""

    def __init__(self, operator: Operator, obj: Object) -> None:
        self.operator = operator
        self.obj = obj
        meta = obj["metadata"]
        self.namespace, self.name, self.uid = meta["namespace"], meta["name"], meta["uid"]
        self.generation = meta.get("generation")
        self.stop = threading.Event()  # the object was deleted: stop its trials
        self.detach = threading.Event()  # shutdown or restart: stop driving, leave the trials running
        self.thread = threading.Thread(
            target=self._run, name=f"experiment {self.namespace}/{self.name}", daemon=True
        )
        self.outcome: ExperimentState | None = None

    def start(self) -> Worker:
        self.thread.start()
        return self

    @property
    def alive(self) -> bool:
        return self.thread.is_alive()

    def _run(self) -> None:
        op = self.operator
        extra = {"experiment": f"{self.namespace}/{self.name}"}
        try:
            self._drive()
        except SpecError as exc:
            log.warning("invalid experiment", extra={**extra, "error": str(exc)})
            self._fail(str(exc))
        except PermanentError as exc:
            log.warning("experiment failed", extra={**extra, "error": str(exc)})
            self._fail(str(exc))
        except LeaseHeldError as exc:
            log.info("another controller drives the experiment", extra={**extra, "error": str(exc)})
        except Exception as exc:  # keep the operator alive; the next event or resync tries again
            op.metrics.reconcile_errors.inc()
            log.exception("driving the experiment failed", extra={**extra, "error": str(exc)})

    def _drive(self) -> None:
        op = self.operator
        experiment = parse(self.obj, op.client)
        self._forget_other_uid(experiment)
        group = op.config.group
        launcher = KubeLauncher(op.client, group, lambda: self.obj, experiment, on_event=op.metrics.event)
        backend = KubeTrialBackend(launcher, experiment, self.namespace, op.config.server_url)
        space = SearchSpace.from_parameters(experiment.spec.parameters or [])
        if op.suggestion_client is not None:
            suggest = remote(experiment, op.suggestion_client, space)
        else:
            suggest = in_process(
                experiment, suggestions.get_suggester(experiment.spec.algorithm_name or ""), space
            )
        mirror = StatusMirror(op.client, group.experiments, group.trials, self.namespace, experiment)
        retain = bool(experiment.spec.trial_template.retain)

        def on_settled(settled: Settled) -> None:
            op.metrics.settled(settled.state.value)
            # Katib deletes a finished trial's workload unless `trialTemplate.retain` (Killed ones are gone)
            if not retain and settled.state != TrialState.KILLED:
                launcher.delete_workload(
                    settled.trial.name,
                    self.namespace,
                    str(backend.trial_spec.get("apiVersion")),
                    str(backend.trial_spec.get("kind")),
                )

        def on_pass(runner: ExperimentRunner) -> None:
            if self.detach.is_set():
                raise Detached
            if runner.reconciler is not None:
                try:
                    mirror.sync(op.store, runner.reconciler.experiment_id)
                except KubeError as exc:
                    log.warning(
                        "writing the status failed", extra={"experiment": self.name, "error": str(exc)}
                    )

        runner = ExperimentRunner(
            op.store,
            experiment,
            backend,
            suggest,
            retries=0,  # the workload retries itself (a Job's backoffLimit)
            collect_metrics=experiment.spec.metrics_collector_kind != CollectorKind.NONE,
            poll_interval=op.config.poll_interval,
            on_pass=on_pass,
            on_settled=on_settled,
            should_stop=self.stop.is_set,
        )
        op.metrics.experiments_created.inc()
        try:
            outcome = runner.run()
        except Detached:
            log.info(
                "stopped driving the experiment; its trials keep running for the next leader",
                extra={"experiment": f"{self.namespace}/{self.name}"},
            )
            return
        except PermanentError as exc:
            if runner.reconciler is None:
                raise
            runner.reconciler.finish(ExperimentState.FAILED, ExperimentReason.FAILED, str(exc))
            mirror.sync(op.store, runner.reconciler.experiment_id)
            self.outcome = ExperimentState.FAILED
            op.metrics.experiments_failed.inc()
            log.warning("experiment failed", extra={"experiment": self.name, "error": str(exc)})
            return
        record = outcome.record
        mirror.sync(op.store, record.id)
        self.outcome = record.state
        if not outcome.interrupted:
            if record.state == ExperimentState.SUCCEEDED:
                op.metrics.experiments_succeeded.inc()
            elif record.state == ExperimentState.FAILED:
                op.metrics.experiments_failed.inc()
        log.info(
            "experiment ended" if not outcome.interrupted else "stopped driving the experiment",
            extra={"experiment": f"{self.namespace}/{self.name}", "state": record.state.value},
        )

    def _forget_other_uid(self, experiment: Experiment) -> None:
        """A stored experiment of this name that belonged to another (deleted) object is removed."""
        store = self.operator.store
        try:
            record = store.get_experiment(experiment.name, experiment.namespace)
        except NotFoundError:
            return
        annotations = (record.spec.get("metadata") or {}).get("annotations") or {}
        if annotations.get(UID_ANNOTATION) != self.uid:
            store.delete_experiment(record.id)

    def _fail(self, message: str) -> None:
        now = now_rfc3339()
        current = (self.obj.get("status") or {}).get("conditions") or []
        conditions = conditions_for(
            list(current), ExperimentState.FAILED, ExperimentReason.FAILED, now, message
        )
        status = {
            "startTime": (self.obj.get("status") or {}).get("startTime") or now,
            "completionTime": now,
            "conditions": conditions,
            "currentOptimalTrial": no_optimal_trial(),
        }
        group = self.operator.config.group
        try:
            write_status(self.operator.client, group.experiments, self.name, self.namespace, status)
        except KubeError as exc:
            log.warning(
                "writing the Failed condition failed", extra={"experiment": self.name, "error": str(exc)}
            )
        self.outcome = ExperimentState.FAILED
        self.operator.metrics.experiments_failed.inc()


class Operator:
    """Watches Experiments and runs a `Worker` for each (see the module docstring)."""

    def __init__(
        self,
        client: KubeClient,
        store: Store,
        config: OperatorConfig | None = None,
        metrics: OperatorMetrics | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.config = config or OperatorConfig()
        self.metrics = metrics or OperatorMetrics()
        self.workers: dict[tuple[str, str], Worker] = {}
        self._stopped: list[Worker] = []  # workers told to stop, until their thread ended
        self.ready = threading.Event()
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self.suggestion_client = (
            SuggestionClient(self.config.suggestion_service, timeout=self.config.suggestion_timeout)
            if self.config.suggestion_service
            else None
        )
        self.elector: LeaderElector | None = None
        self._closing = False

    # -- running --------------------------------------------------------------------------------
    def run(self, stop: threading.Event | None = None) -> int:
        """Run until `stop` is set (0) or the leadership is lost (1)."""
        stop = stop or self.stopping
        self._closing = False
        if self.config.leader_elect:
            self.elector = LeaderElector(
                self.client, self.config.lease_namespace, self.config.lease_name, self.config.identity
            )
            self.ready.set()  # a standby replica is ready: it waits for the lease
            if not self.elector.acquire(stop):
                return 0
            self.metrics.leader.set(1)
        scopes: list[str | None] = list(self.config.namespaces) if self.config.namespaces else [None]
        threads = [
            threading.Thread(
                target=self._watch_loop, args=(scope, stop), name=f"watch {scope or '*'}", daemon=True
            )
            for scope in scopes
        ]
        for thread in threads:
            thread.start()
        lost = False
        while not stop.wait(0.5):
            if self.elector is not None and self.elector.lost.is_set():
                lost = True
                break
        stop.set()
        # Hand over at once: a watch may sit in a stream for up to watch_timeout seconds, longer than a pod's
        # grace period after SIGTERM, so no new event is acted on from here, the lease is released now and
        # the (daemon) watch threads get only a moment to notice.
        with self._lock:
            self._closing = True
        self.shutdown()
        for thread in threads:
            thread.join(timeout=1.0)
        return 1 if lost else 0

    def shutdown(self) -> None:
        """Stop every worker (their running trials are stopped and recorded Interrupted), release the lease."""
        with self._lock:
            workers = [*self.workers.values(), *self._stopped]
        for worker in workers:
            worker.detach.set()  # running trials keep running; the next leader adopts them
        for worker in workers:
            worker.thread.join(timeout=60)
        if self.elector is not None:
            self.elector.release()
            self.metrics.leader.set(0)
        if self.suggestion_client is not None:
            self.suggestion_client.close()

    def _watch_loop(self, namespace: str | None, stop: threading.Event) -> None:
        resource = self.config.group.experiments
        while not stop.is_set():
            try:
                items, version = self.client.list(resource, namespace)
                self.ready.set()
                for obj in items:
                    self.handle("ADDED", obj)
                self._reap(items, namespace)
                for event in self.client.watch(resource, namespace, version, self.config.watch_timeout):
                    if stop.is_set():
                        return
                    if event.type in ("ADDED", "MODIFIED", "DELETED"):
                        self.handle(event.type, event.object)
            except ConflictError:
                continue  # the resourceVersion expired (410): list again
            except KubeError as exc:
                log.warning(
                    "watching experiments failed; listing again",
                    extra={"namespace": namespace or "*", "error": str(exc)},
                )
                stop.wait(2.0)

    def _reap(self, items: list[Object], namespace: str | None) -> None:
        """Workers whose object disappeared while no watch was open are stopped."""
        present = {(o["metadata"]["namespace"], o["metadata"]["name"], o["metadata"]["uid"]) for o in items}
        with self._lock:
            gone = [
                w
                for key, w in self.workers.items()
                if (namespace is None or key[0] == namespace) and (w.namespace, w.name, w.uid) not in present
            ]
        for worker in gone:
            self.handle("DELETED", worker.obj)

    def handle(self, kind: str, obj: Object) -> None:
        """React to one event (see the module docstring)."""
        meta = obj.get("metadata") or {}
        key = (str(meta.get("namespace")), str(meta.get("name")))
        with self._lock:
            if self._closing:  # shutting down: the next leader acts on it
                return
            worker = self.workers.get(key)
            if kind == "DELETED":
                if worker is not None and worker.uid == meta.get("uid"):
                    worker.stop.set()
                    self._stopped.append(worker)
                    self.workers.pop(key, None)
                    self.metrics.experiments_deleted.inc()
                    log.info("experiment deleted; stopping its trials", extra={"experiment": "/".join(key)})
                self.metrics.experiments_current.set(len(self.workers))
                return
            if worker is not None and worker.uid == meta.get("uid"):
                worker.obj = obj  # owner references and the latest status for the launcher
                if worker.generation == meta.get("generation") or not worker.alive:
                    if worker.alive or _finished(obj) or worker.outcome is not None:
                        return
                else:
                    worker.detach.set()  # the counts changed: resume with the new spec
                    worker.thread.join(timeout=60)
            elif worker is not None:
                worker.stop.set()  # a new object under an old name: the old one's trials go
                worker.thread.join(timeout=60)
            elif _finished(obj) and self._store_finished(key):
                return
            self.workers[key] = Worker(self, obj).start()
            self.metrics.experiments_current.set(len(self.workers))

    def _store_finished(self, key: tuple[str, str]) -> bool:
        try:
            return self.store.get_experiment(key[1], key[0]).state.is_finished
        except NotFoundError:
            return False

    def wait_idle(self, timeout: float) -> bool:
        """Tests: wait until no worker runs."""
        deadline = threading.Event()
        timer = threading.Timer(timeout, deadline.set)
        timer.start()
        try:
            while not deadline.is_set():
                with self._lock:
                    self._stopped = [w for w in self._stopped if w.alive]
                    busy = [w for w in [*self.workers.values(), *self._stopped] if w.alive]
                if not busy:
                    return True
                busy[0].thread.join(timeout=0.2)
            return False
        finally:
            timer.cancel()


def _finished(obj: Object) -> bool:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") in ("Succeeded", "Failed") and condition.get("status") == "True":
            return True
    return False


def problems_message(problems: list[Problem]) -> str:
    return "; ".join(f"{p.path}: {p.message}" for p in problems)


def default_identity() -> str:
    """`POD_NAME` (the Downward API) when set, else host and a random suffix."""
    return os.environ.get("POD_NAME") or f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}"
