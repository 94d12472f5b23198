"""The controller of pipeline runs submitted to the server: one background thread per run, many at once.

Each thread runs the stored pipeline version with the local runner, recording into the run the request
created (`pipelines.runner.resume.ResumingRecorder`). The server's own facts about a run live beside it in
the data folder (`<data>/pipeline-runs/<id>/control.json`: namespace, KFP experiment, the runner's id which
names the run's folder, caching); that file marks the run as the server's. At start-up every such run the
store says is unfinished is driven again: its Succeeded, Cached and Failed tasks stand (not rerun), task
processes left by the dead server are waited out first, the rest runs. A cancelled run has a `cancelled`
marker and is never resumed. Shutting the server down stops the tasks and leaves the run to resume.
Each driver holds the run's lease in the store (`controllers.lease.RunLeaseKeeper`), so several servers on
one store (and data folder) never drive one run at once: a second one leaves it alone.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from controllers.lease import RunLeaseKeeper
from pipelines.compiler.ir import PipelineSpec
from pipelines.runner.console import SilentObserver
from pipelines.runner.local import LocalRunner, RunDetached, RunOptions
from pipelines.runner.resume import ResumingRecorder, finished_tasks, settle_orphans
from tuner.config import Settings
from tuner.errors import LeaseHeldError, NotFoundError
from tuner.store import Store, open_store
from tuner.store.records import PipelineRun, RunState

logger = logging.getLogger(__name__)

CONTROL_FILE = "control.json"
CANCELLED_MARKER = "cancelled"


@dataclass(frozen=True)
class RunControl:
    """What the server keeps about a run it drives, beside the store's record."""

    run_id: int
    namespace: str
    experiment: str
    runner_id: str
    enable_caching: bool = True


@dataclass
class RunDriver:
    """One run's thread and what it was asked: None, "cancel" or "detach"."""

    control: RunControl
    thread: threading.Thread | None = None
    asked: str | None = None
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()


class RunDrivers:
    """Every pipeline run this server drives; shared by the request handlers."""

    def __init__(self, settings: Settings, lease_ttl: float = 30.0) -> None:
        self.settings = settings
        self.lease_ttl = lease_ttl
        self._drivers: dict[int, RunDriver] = {}
        self._lock = threading.Lock()

    @property
    def root(self) -> Path:
        return self.settings.data_dir / "pipeline-runs"

    def folder(self, run_id: int) -> Path:
        return self.root / str(run_id)

    def control(self, run_id: int) -> RunControl | None:
        """The server's record of a run (None when the run was not submitted to a server on this folder)."""
        try:
            data = json.loads((self.folder(run_id) / CONTROL_FILE).read_text(encoding="utf-8"))
            return RunControl(**data)
        except (OSError, ValueError, TypeError):
            return None

    def controls(self) -> dict[int, RunControl]:
        """Every run submitted to this server, by run id."""
        found = {}
        for path in self.root.glob(f"*/{CONTROL_FILE}"):
            if path.parent.name.isdecimal():
                control = self.control(int(path.parent.name))
                if control is not None:
                    found[control.run_id] = control
        return found

    def submit(
        self,
        store: Store,
        *,
        namespace: str,
        name: str,
        version_id: int,
        arguments: dict[str, Any],
        experiment: str,
        enable_caching: bool = True,
    ) -> PipelineRun:
        """Record a run (Pending) with checked arguments and start driving it."""
        run = store.create_run(name, pipeline_version_id=version_id, arguments=arguments, namespace=namespace)
        control = RunControl(run.id, namespace, experiment, uuid.uuid4().hex, enable_caching)
        folder = self.folder(run.id)
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / (CONTROL_FILE + ".partial")
        partial.write_text(json.dumps(asdict(control)), encoding="utf-8")
        partial.replace(folder / CONTROL_FILE)
        self._start(control)
        return run

    def resume_all(self, store: Store) -> list[int]:
        """Drive again every run of this server that the store says is unfinished (at start-up)."""
        resumed = []
        for run_id, control in sorted(self.controls().items()):
            if (self.folder(run_id) / CANCELLED_MARKER).exists():
                continue
            try:
                run = store.get_run(run_id)
            except NotFoundError:
                continue
            if run.state.is_finished:
                continue
            self._start(control)
            resumed.append(run_id)
        return resumed

    def _start(self, control: RunControl) -> RunDriver:
        with self._lock:
            driver = self._drivers.get(control.run_id)
            if driver is not None and driver.alive:
                return driver
            driver = RunDriver(control)
            driver.thread = threading.Thread(
                target=self._drive, args=(driver,), name=f"pipeline-run-{control.run_id}", daemon=True
            )
            self._drivers[control.run_id] = driver
        driver.thread.start()
        return driver

    def _drive(self, driver: RunDriver) -> None:
        control = driver.control
        store = open_store(self.settings.store_url)
        keeper = RunLeaseKeeper(store, control.run_id, str(control.run_id), ttl=self.lease_ttl)
        try:
            keeper.acquire()
        except LeaseHeldError as exc:
            driver.error = str(exc)
            logger.info("pipeline run %d is driven by another process: %s", control.run_id, exc)
            store.close()
            return
        try:
            run = store.get_run(control.run_id)
            if run.state.is_finished:  # finished meanwhile by the process that held the lease
                return
            if run.pipeline_version_id is None:
                raise NotFoundError(f"run {run.id} has no pipeline version to run")
            version = _version(store, run.pipeline_version_id)
            spec = PipelineSpec.model_validate(version)
            adopt, killed = settle_orphans(store, run.id, should_stop=lambda: driver.asked)
            if killed:
                logger.warning("run %d: killed task processes of an earlier server: %s", run.id, killed)
            recorder = ResumingRecorder(store, run.id, run.pipeline_version_id)
            runner = LocalRunner(self.settings, recorder, observer=SilentObserver())
            options = RunOptions(
                run_id=control.runner_id,
                run_name=run.name,
                experiment_name=control.experiment,
                enable_caching=control.enable_caching,
                resume=finished_tasks(store, run.id),
                adopt=frozenset(adopt),
                should_stop=lambda: driver.asked or ("detach" if keeper.lost.is_set() else None),
            )
            runner.run(spec, dict(run.arguments), options)
        except RunDetached:
            logger.info("run %d detached; it resumes at the next start", control.run_id)
        except Exception as exc:
            driver.error = f"{type(exc).__name__}: {exc}"
            logger.exception("pipeline run %d stopped on an error", control.run_id)
            try:
                if not store.get_run(control.run_id).state.is_finished:
                    store.update_run(
                        control.run_id, RunState.FAILED, f"the server's driver failed: {driver.error}"
                    )
            except Exception:
                logger.exception("cannot record pipeline run %d as failed", control.run_id)
        finally:
            driver.done.set()
            keeper.close()
            store.close()

    def get(self, run_id: int) -> RunDriver | None:
        with self._lock:
            return self._drivers.get(run_id)

    def running(self) -> list[RunDriver]:
        with self._lock:
            return [d for d in self._drivers.values() if d.alive]

    def cancel(self, store: Store, run_id: int, timeout: float = 30.0) -> str:
        """Cancel a run: its running tasks are stopped, it ends Cancelled and is never resumed. Returns
        "cancelled", "finished" (it had ended already), "elsewhere" (another process drives it) or
        "cancelling" (still stopping after `timeout`)."""
        run = store.get_run(run_id)
        if run.state.is_finished:
            return "finished"
        driver = self.get(run_id)
        if (driver is None or not driver.alive) and store.get_run_lease(run_id) is not None:
            return "elsewhere"
        folder = self.folder(run_id)
        if folder.exists():
            (folder / CANCELLED_MARKER).touch()
        driver = self.get(run_id)
        if driver is not None and driver.alive:
            driver.asked = "cancel"
            assert driver.thread is not None
            driver.thread.join(timeout)
            if driver.alive:
                return "cancelling"
        if not store.get_run(run_id).state.is_finished:  # not driven here (or it ended before starting)
            store.update_run(run_id, RunState.CANCELLED, "cancelled")
        return "cancelled"

    def shutdown(self, timeout: float = 30.0) -> None:
        """Stop every run's tasks and leave the runs unfinished (server shutdown): they resume at start."""
        drivers = self.running()
        for driver in drivers:
            driver.asked = "detach"
        for driver in drivers:
            assert driver.thread is not None
            driver.thread.join(timeout)


def _version(store: Store, version_id: int) -> dict[str, Any]:
    for pipeline in store.list_pipelines():
        for version in store.list_pipeline_versions(pipeline.id):
            if version.id == version_id:
                return dict(version.spec)
    raise NotFoundError(f"no pipeline version with id {version_id}")
