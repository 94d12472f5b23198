"""The controller of submitted experiments: one background thread per experiment, many at once.

Each thread drives the experiment exactly as `tuner run` does (`controllers.local_run.make_runner`), from
the document saved at submission in the experiment's own folder under the data folder
(`<data>/submitted/<namespace>/<name>/experiment.yaml`, which is also the folder for its relative paths).
That file marks the experiment as the server's: when the server starts, every such experiment that the
store says is unfinished is resumed (the store's lease keeps two processes from driving one experiment),
unless it was stopped through the API (a `stopped` marker beside it).
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from controllers.admission import LocalSite, check_document, runs_root
from controllers.local import LocalTrialPlan
from controllers.local_run import LocalExperiment, load_local, make_runner
from controllers.resources import ResourcePool
from controllers.run import ExperimentRunner, prepare, spec_digest
from tuner.config import Settings
from tuner.errors import LeaseHeldError, NotFoundError
from tuner.server.counts import with_counts
from tuner.spec import Experiment
from tuner.store import Store, open_store
from tuner.store.records import Experiment as StoredExperiment

logger = logging.getLogger(__name__)

EXPERIMENT_FILE = "experiment.yaml"
STOPPED_MARKER = "stopped"


def submitted_root(settings: Settings) -> Path:
    """Where submitted experiments keep their document (one folder per namespace and name)."""
    return settings.data_dir / "submitted"


@dataclass
class Driver:
    """One experiment's thread and the switch that stops it."""

    namespace: str
    name: str
    thread: threading.Thread | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    runner: ExperimentRunner | None = None
    error: str | None = None

    @property
    def alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def active_trials(self) -> int:
        reconciler = self.runner.reconciler if self.runner is not None else None
        return int(reconciler.view.active) if reconciler is not None else 0


_FOLDER_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def _folder_name(value: object, fallback: str) -> str:
    """`value` when it is a name Kubernetes would take (so a safe folder name), else `fallback`: a submitted
    name may hold a NUL, '/' or '..' until validation refuses it."""
    text = value if isinstance(value, str) else ""
    return text if _FOLDER_NAME.fullmatch(text) and len(text) <= 253 else fallback


class Drivers:
    """Every experiment this server drives; shared by the request handlers."""

    def __init__(self, settings: Settings, poll_interval: float = 0.2) -> None:
        self.settings = settings
        self.poll_interval = poll_interval
        self._drivers: dict[tuple[str, str], Driver] = {}
        self._lock = threading.Lock()
        self._admitting = threading.Lock()  # check-then-create of one name at a time

    def folder(self, namespace: str, name: str) -> Path:
        return submitted_root(self.settings) / namespace / name

    def site(self, document: dict[str, Any]) -> LocalSite:
        metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
        # not validated yet (check_document refuses a bad name, naming the field): never a path from it
        namespace = _folder_name((metadata or {}).get("namespace"), "default")
        name = _folder_name((metadata or {}).get("name"), "unnamed")
        # a pool per experiment, as each `tuner run` process has its own
        return LocalSite(self.folder(namespace, name).resolve(), self.settings, ResourcePool())

    def admit(self, store: Store, document: dict[str, Any]) -> StoredExperiment:
        """Check a submitted document as `tuner run` checks a file, record it and start driving it.

        Raises:
            SpecError: every problem of the document (nothing is stored or written).
            ConflictError: an experiment of that name exists already.
        """
        site = self.site(document)
        experiment = check_document(document, site)
        with self._admitting:
            record = self._create(store, document, experiment)
        local = LocalExperiment(experiment, LocalTrialPlan(experiment, site.context(experiment)), site.pool)
        self._start(local)
        return record

    def _create(self, store: Store, document: dict[str, Any], experiment: Experiment) -> StoredExperiment:
        """Save the submitted document in its folder and record the experiment (both or neither)."""
        try:
            store.get_experiment(experiment.name, experiment.namespace)
        except NotFoundError:
            pass
        else:
            raise ConflictError(
                f"an experiment called {experiment.name!r} exists in namespace {experiment.namespace!r}; "
                "delete it first or choose another metadata.name"
            )
        folder = self.folder(experiment.namespace, experiment.name)
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / (EXPERIMENT_FILE + ".partial")
        partial.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
        partial.replace(folder / EXPERIMENT_FILE)
        try:
            return prepare(store, experiment).record
        except Exception:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    def resume_all(self, store: Store) -> list[str]:
        """Start every submitted experiment the store says is unfinished (at server start)."""
        resumed = []
        root = submitted_root(self.settings)
        for path in sorted(root.glob(f"*/*/{EXPERIMENT_FILE}")):
            namespace, name = path.parent.parent.name, path.parent.name
            if (path.parent / STOPPED_MARKER).exists():
                continue
            try:
                record = store.get_experiment(name, namespace)
            except NotFoundError:
                continue
            if record.state.is_finished:
                continue
            try:
                local = load_local(path, self.settings)
            except Exception:
                logger.exception("cannot resume experiment %s/%s", namespace, name)
                continue
            self._start(local)
            resumed.append(f"{namespace}/{name}")
        return resumed

    def resume(self, store: Store, namespace: str, name: str) -> str:
        """Drive a stopped (or otherwise undriven) submitted experiment again. Returns "resumed",
        "running" (already driven here), "finished" or "not submitted" (not one of this server's)."""
        path = self.folder(namespace, name) / EXPERIMENT_FILE
        if not path.exists():
            return "not submitted"
        driver = self.get(namespace, name)
        if driver is not None and driver.alive:
            return "running"
        if store.get_experiment(name, namespace).state.is_finished:
            return "finished"
        self._start(load_local(path, self.settings))
        return "resumed"

    def change_counts(
        self, store: Store, namespace: str, name: str, counts: dict[str, int | None]
    ) -> StoredExperiment:
        """Store new counts (see `tuner.server.counts`): in the store, which the driver re-reads each second
        wherever it runs, and in the submitted document, so a resumed driver keeps them. A finished
        experiment whose maxTrialCount was raised restarts when its resumePolicy allows (Katib's rule,
        decided by the runner).

        Raises:
            NotFoundError: no such experiment.
            SpecError: the document with the new counts is not valid (e.g. a grid too small for them).
        """
        record = store.get_experiment(name, namespace)
        document = with_counts(record.spec, counts)
        path = self.folder(namespace, name) / EXPERIMENT_FILE
        if path.exists():
            submitted = with_counts(yaml.safe_load(path.read_text(encoding="utf-8")) or {}, counts)
            check_document(submitted, self.site(submitted))
            partial = path.with_name(EXPERIMENT_FILE + ".partial")
            partial.write_text(yaml.safe_dump(submitted, sort_keys=False), encoding="utf-8")
            partial.replace(path)
        if record.state.is_finished and path.exists():
            local = load_local(path, self.settings)
            if prepare(store, local.experiment, apply_counts=False).action == "restarted":
                self._start(local)  # the runner stores the counts as it restarts the experiment
                return record
        return store.update_experiment_spec(record.id, document, spec_digest(document))

    def _start(self, local: LocalExperiment) -> Driver:
        experiment = local.experiment
        key = (experiment.namespace, experiment.name)
        with self._lock:
            driver = self._drivers.get(key)
            if driver is not None and driver.alive:
                return driver
            driver = Driver(experiment.namespace, experiment.name)
            driver.thread = threading.Thread(
                target=self._drive, args=(driver, local), name=f"experiment-{experiment.name}", daemon=True
            )
            self._drivers[key] = driver
        (self.folder(*key) / STOPPED_MARKER).unlink(missing_ok=True)
        driver.thread.start()
        return driver

    def _drive(self, driver: Driver, local: LocalExperiment) -> None:
        store = open_store(self.settings.store_url)
        try:
            driver.runner = make_runner(
                store, local, should_stop=driver.stop.is_set, poll_interval=self.poll_interval
            )
            driver.runner.run()
        except LeaseHeldError as exc:
            driver.error = str(exc)
            logger.info(
                "experiment %s/%s is driven by another process: %s", driver.namespace, driver.name, exc
            )
        except Exception as exc:
            driver.error = f"{type(exc).__name__}: {exc}"
            logger.exception("experiment %s/%s stopped on an error", driver.namespace, driver.name)
        finally:
            store.close()

    def get(self, namespace: str, name: str) -> Driver | None:
        with self._lock:
            return self._drivers.get((namespace, name))

    def running(self) -> list[Driver]:
        with self._lock:
            return [d for d in self._drivers.values() if d.alive]

    def stop(self, namespace: str, name: str, timeout: float = 30.0, *, keep_stopped: bool = True) -> str:
        """Stop driving one experiment (its running trials are stopped; it stays resumable, and with
        `keep_stopped` is not resumed at the next start). Returns "stopped", "not running" (not driven
        here) or "stopping" (still stopping after `timeout` seconds)."""
        driver = self.get(namespace, name)
        if driver is None or not driver.alive:
            return "not running"
        if keep_stopped:
            folder = self.folder(namespace, name)
            if folder.exists():
                (folder / STOPPED_MARKER).touch()
        driver.stop.set()
        assert driver.thread is not None
        driver.thread.join(timeout)
        return "stopping" if driver.alive else "stopped"

    def forget(self, namespace: str, name: str) -> None:
        """Remove a deleted experiment's files (its submitted document and its trials' folders)."""
        with self._lock:
            self._drivers.pop((namespace, name), None)
        shutil.rmtree(self.folder(namespace, name), ignore_errors=True)
        shutil.rmtree(runs_root(self.settings) / namespace / name, ignore_errors=True)

    def shutdown(self, timeout: float = 30.0) -> None:
        """Stop every thread cleanly (server shutdown); the experiments resume at the next start."""
        drivers = self.running()
        for driver in drivers:
            driver.stop.set()
        for driver in drivers:
            assert driver.thread is not None
            driver.thread.join(timeout)


class ConflictError(Exception):
    """The request conflicts with what exists (answered 409)."""
