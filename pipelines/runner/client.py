"""KFP's client entry points, run locally: `run_pipeline_func_locally`, `LocalClient` and `Client`.

`Client()` without a host, `LocalClient()` and `run_pipeline_func_locally(...)` compile the pipeline and run
it with `LocalRunner`, streaming each task's output prefixed by its name and printing a summary at the end.
`Client(host=...)` talks to a running `tuner server` (`pipelines.runner.remote`): runs go on there in the
background, and `wait_for_run_completion` polls them. `TUNER_PIPELINES_HOST=local` runs locally whatever
host the code names, which lets KFP v1 scripts that hard-code a host run without a server.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.compiler.compiler import as_spec
from pipelines.compiler.ir import PipelineSpec
from pipelines.compiler.loader import load_pipeline
from pipelines.runner.console import ConsoleObserver, RunObserver
from pipelines.runner.local import LocalRunner, RunOptions
from pipelines.runner.recorder import RunRecorder
from pipelines.runner.remote import RemoteClient
from pipelines.runner.results import RunDetail, RunResult
from tuner.config import Settings
from tuner.errors import LaunchError

HOST_OVERRIDE_VARIABLE = "TUNER_PIPELINES_HOST"


def default_recorder(settings: Settings) -> RunRecorder:
    """The recorder runs use when none is given: the metadata store named by the settings, so runs, tasks,
    artifacts and lineage are kept and the cache is shared between processes."""
    from pipelines.runner.store_recorder import StoreRecorder
    from tuner.store import open_store

    return StoreRecorder(open_store(settings=settings), owns_store=True)


def run_pipeline(
    pipeline: Any,
    arguments: dict[str, Any] | None = None,
    options: RunOptions | None = None,
    runner: LocalRunner | None = None,
    pipeline_name: str | None = None,
    pipeline_conf: Any = None,
) -> RunResult:
    """Compile (if needed) and run locally: a pipeline function, an IR, a package path, or a Python file
    path with `pipeline_name` choosing among its pipelines."""
    if isinstance(pipeline, (str, Path)):
        spec: PipelineSpec = load_pipeline(pipeline, pipeline_name)
    else:
        spec = as_spec(pipeline, pipeline_conf)
    if runner is None:
        settings = Settings.from_env()
        runner = LocalRunner(settings, default_recorder(settings), observer=ConsoleObserver())
    return runner.run(spec, arguments, options)


def run_pipeline_func_locally(
    pipeline_func: Any,
    arguments: dict[str, Any] | None = None,
    execution_mode: Any = None,
    pipeline_root: str | None = None,
    enable_caching: bool = True,
    parallelism: int | None = None,
    install_packages: bool = False,
    observer: RunObserver | None = None,
    recorder: RunRecorder | None = None,
) -> RunResult:
    """KFP v1 `kfp.run_pipeline_func_locally`: run the pipeline here and return its result.

    `pipeline_root` (when given) is the folder artifacts are stored in. The result's `success()` tells
    whether every task succeeded; `tasks` holds each task's state, outputs and log path.
    """
    if execution_mode is not None and getattr(execution_mode, "mode", "local") != "local":
        raise LaunchError(
            f"execution mode {execution_mode.mode!r} is not supported; the local runner runs tasks as processes "
            "(ExecutionMode('local'))"
        )
    settings = Settings.from_env(artifacts_url=pipeline_root) if pipeline_root else Settings.from_env()
    used = recorder if recorder is not None else default_recorder(settings)
    runner = LocalRunner(settings, used, observer=observer or ConsoleObserver())
    options = RunOptions(
        parallelism=parallelism, enable_caching=enable_caching, install_packages=install_packages
    )
    try:
        return run_pipeline(pipeline_func, arguments, options, runner)
    finally:
        close = getattr(used, "close", None)
        if recorder is None and close is not None:
            close()  # the store this call opened


class LocalClient:
    """KFP v1 `kfp.LocalClient`: runs pipelines on this machine."""

    class ExecutionMode:
        """KFP v1 `LocalClient.ExecutionMode`; only 'local' (processes on this machine) is supported."""

        def __init__(
            self,
            mode: str = "local",
            images_to_exclude: list[str] | None = None,
            ops_to_exclude: list[str] | None = None,
            docker_options: list[str] | None = None,
        ) -> None:
            self.mode = mode

    def __init__(self, pipeline_root: str | None = None) -> None:
        self.pipeline_root = pipeline_root

    def create_run_from_pipeline_func(
        self,
        pipeline_func: Any,
        arguments: dict[str, Any] | None = None,
        execution_mode: Any = None,
        **kwargs: Any,
    ) -> RunResult:
        """Run the pipeline here."""
        return run_pipeline_func_locally(
            pipeline_func, arguments, execution_mode, self.pipeline_root, **kwargs
        )


@dataclass(frozen=True)
class Experiment:
    """What `Client.create_experiment` returns (local runs keep only the name)."""

    id: str
    name: str
    description: str | None = None


class Client:
    """KFP's `kfp.Client`. Without a host it runs pipelines locally, one `LocalRunner` per client (so a
    client's later runs reuse its earlier runs' cached tasks)."""

    def __init__(
        self, host: str | None = None, *args: Any, namespace: str | None = None, **kwargs: Any
    ) -> None:
        self.host = host
        self._remote: RemoteClient | None = None
        self._runs: dict[str, RunResult] = {}
        if host and os.environ.get(HOST_OVERRIDE_VARIABLE, "").lower() != "local":
            token = kwargs.get("existing_token")  # KFP v1's name for a bearer token
            self._remote = RemoteClient(host, namespace, token=token if isinstance(token, str) else None)
            return
        settings = Settings.from_env()
        self._runner = LocalRunner(settings, default_recorder(settings), observer=ConsoleObserver())

    def __getattr__(self, name: str) -> Any:
        # what only a server offers (list_runs, get_experiment, upload_pipeline, ...) comes from the remote
        remote = self.__dict__.get("_remote")
        if remote is not None and not name.startswith("_") and hasattr(remote, name):
            return getattr(remote, name)
        if remote is None and not name.startswith("_") and hasattr(RemoteClient, name):
            raise LaunchError(
                f"Client.{name} needs a pipelines server: start `tuner server` and use Client(host=URL)"
            )
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _check_local(self) -> None:
        """Kept for callers of the local path; a client with a host talks to the server instead."""

    def create_run_from_pipeline_func(
        self,
        pipeline_func: Any,
        arguments: dict[str, Any] | None = None,
        run_name: str | None = None,
        experiment_name: str | None = None,
        pipeline_conf: Any = None,
        namespace: str | None = None,
        mode: Any = None,
        launcher_image: str | None = None,
        pipeline_root: str | None = None,
        enable_caching: bool | None = None,
        service_account: str | None = None,
        **_ignored: Any,
    ) -> Any:
        """Run the pipeline: locally (returns the finished run) or, with a host, on the server (returns at
        once a result with `.run_id`; `wait_for_run_completion` waits)."""
        if self._remote is not None:
            return self._remote.create_run_from_pipeline_func(
                pipeline_func,
                arguments,
                run_name=run_name,
                experiment_name=experiment_name,
                pipeline_conf=pipeline_conf,
                namespace=namespace,
                enable_caching=enable_caching,
            )
        options = RunOptions(
            run_name=run_name, experiment_name=experiment_name, enable_caching=enable_caching is not False
        )
        result = run_pipeline(pipeline_func, arguments, options, self._runner, pipeline_conf=pipeline_conf)
        self._runs[result.run_id] = result
        return result

    def create_run_from_pipeline_package(
        self,
        pipeline_file: str,
        arguments: dict[str, Any] | None = None,
        run_name: str | None = None,
        experiment_name: str | None = None,
        enable_caching: bool | None = None,
        **_ignored: Any,
    ) -> Any:
        """Run a compiled package (.yaml, .zip, .tar.gz) locally, or on the server with a host."""
        if self._remote is not None:
            return self._remote.create_run_from_pipeline_package(
                pipeline_file, arguments, run_name, experiment_name, enable_caching=enable_caching
            )
        options = RunOptions(
            run_name=run_name, experiment_name=experiment_name, enable_caching=enable_caching is not False
        )
        result = run_pipeline(pipeline_file, arguments, options, self._runner)
        self._runs[result.run_id] = result
        return result

    def create_experiment(
        self, name: str, description: str | None = None, namespace: str | None = None
    ) -> Any:
        """Locally an experiment is only a name attached to runs; with a host it is the server's."""
        if self._remote is not None:
            return self._remote.create_experiment(name, description, namespace)
        return Experiment(uuid.uuid5(uuid.NAMESPACE_URL, name).hex, name, description)

    def close(self) -> None:
        """Close the metadata store this client records in (or the connection to the server)."""
        if self._remote is not None:
            self._remote.close()
            return
        close = getattr(self._runner.recorder, "close", None)
        if close is not None:
            close()

    def _run(self, run_id: str) -> RunResult:
        try:
            return self._runs[run_id]
        except KeyError:
            known = ", ".join(self._runs) or "none yet"
            raise LaunchError(f"no run {run_id!r} was made by this client; its runs: {known}") from None

    def get_run(self, run_id: str) -> Any:
        """KFP `get_run`: a run made by this client, or any run of the server (`.run.id`, `.run.status`,
        `.state`)."""
        if self._remote is not None:
            return self._remote.get_run(run_id)
        return RunDetail(self._run(run_id))

    def wait_for_run_completion(
        self, run_id: str, timeout: float | None = None, sleep_duration: float = 1.0
    ) -> Any:
        """KFP `wait_for_run_completion`: with a host, polls until the run has finished (TimeoutError after
        `timeout` seconds); local runs are complete when created."""
        if self._remote is not None:
            return self._remote.wait_for_run_completion(run_id, timeout, sleep_duration)
        return RunDetail(self._run(run_id))

    def get_run_result(self, run_id: str) -> RunResult:
        """The full local result of a run made by this client (tasks, outputs, metrics)."""
        return self._run(run_id)
