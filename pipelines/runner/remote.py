"""`kfp.Client(host=...)` against a running `tuner server`: the HTTP side of KFP's client.

The pipeline is compiled here (as KFP's SDK does) and sent to the server, which runs it in the background;
the objects returned are shaped like KFP v1's API objects so that code written for KFP reads them
unchanged: `create_run_from_pipeline_func(...)` returns a result with `.run_id` and
`.wait_for_run_completion(timeout)`; `get_run(id)` a detail with `.run.id`, `.run.status`, `.run.error`;
`list_runs()` a list with `.runs`; `create_experiment`/`get_experiment` an experiment with `.id`, `.name`.
KFP v2 spellings (`.state` "SUCCEEDED", `.run_id`, `.display_name`) are there too.

Errors from the server (problem+json) are raised as tuner's own: 422 as `SpecError` listing every field,
404 as `NotFoundError`, 409 as `AlreadyExistsError`; an unreachable server as `LaunchError` saying how to
start one.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from pipelines.compiler.compiler import as_spec
from pipelines.compiler.ir import dump
from pipelines.compiler.loader import load_pipeline
from tuner.errors import AlreadyExistsError, LaunchError, NotFoundError, Problem, SpecError, TunerError

TOKEN_ENV = "TUNER_TOKEN"  # the bearer token for a server with authentication (as tuner.Client reads it)
FINISHED = {"Succeeded", "Failed", "Cancelled"}
_V2_STATES = {
    "Pending": "PENDING",
    "Running": "RUNNING",
    "Succeeded": "SUCCEEDED",
    "Failed": "FAILED",
    "Cancelled": "CANCELED",
}


@dataclass(frozen=True)
class RemoteExperiment:
    """KFP's ApiExperiment: `.id`, `.name`, `.description`, `.created_at`."""

    id: str
    name: str
    description: str = ""
    created_at: str | None = None
    namespace: str = "default"

    @property
    def experiment_id(self) -> str:
        """KFP v2 spelling."""
        return self.id

    @property
    def display_name(self) -> str:
        return self.name


@dataclass(frozen=True)
class RemoteRun:
    """KFP v1's ApiRun: `.id`, `.name`, `.status`, `.error`, `.created_at`, `.finished_at`; v2's `.run_id`,
    `.state`, `.display_name` too. `.document` is the server's whole answer (tasks included for get_run)."""

    id: str
    name: str
    status: str
    error: str | None
    created_at: str | None
    finished_at: str | None
    experiment_name: str | None
    pipeline_name: str | None
    document: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of(cls, document: dict[str, Any]) -> RemoteRun:
        state = str(document.get("state") or "")
        return cls(
            id=str(document["id"]),
            name=str(document.get("name") or ""),
            status=state,
            error=(document.get("message") or None) if state in ("Failed", "Cancelled") else None,
            created_at=document.get("createdAt"),
            finished_at=document.get("finishedAt"),
            experiment_name=document.get("experimentName"),
            pipeline_name=(document.get("pipeline") or {}).get("name"),
            document=document,
        )

    @property
    def run_id(self) -> str:
        return self.id

    @property
    def state(self) -> str:
        """KFP v2 spelling: "SUCCEEDED", "FAILED", "RUNNING", "PENDING", "CANCELED"."""
        return _V2_STATES.get(self.status, self.status.upper())

    @property
    def display_name(self) -> str:
        return self.name

    @property
    def tasks(self) -> list[dict[str, Any]]:
        """The run's tasks (state, outputs, times), when the server sent them (get_run)."""
        return list(self.document.get("tasks") or [])


class RemoteRunDetail:
    """KFP's ApiRunDetail (what get_run and wait_for_run_completion return): `.run` is the run; the v2
    spellings (`.run_id`, `.state`, `.error`) read through to it."""

    def __init__(self, run: RemoteRun) -> None:
        self.run = run

    @property
    def id(self) -> str:
        return self.run.id

    @property
    def run_id(self) -> str:
        return self.run.id

    @property
    def status(self) -> str:
        return self.run.status

    @property
    def state(self) -> str:
        return self.run.state

    @property
    def error(self) -> str | None:
        return self.run.error

    @property
    def display_name(self) -> str:
        return self.run.name

    def __repr__(self) -> str:
        return f"<RunDetail run_id={self.run.id} status={self.run.status}>"


@dataclass(frozen=True)
class RemoteRunList:
    """KFP's ApiListRunsResponse: `.runs`, `.total_size`, `.next_page_token`."""

    runs: list[RemoteRun]
    total_size: int
    next_page_token: str = ""


@dataclass(frozen=True)
class RemoteExperimentList:
    """KFP's ApiListExperimentsResponse."""

    experiments: list[RemoteExperiment]
    total_size: int
    next_page_token: str = ""


class RemoteRunResult:
    """KFP's RunPipelineResult: `.run_id`, `.run_info`, `.wait_for_run_completion(timeout)`."""

    def __init__(self, client: RemoteClient, run: RemoteRun) -> None:
        self._client = client
        self.run_id = run.id
        self.run_info = run

    def wait_for_run_completion(self, timeout: float | None = None) -> RemoteRunDetail:
        return self._client.wait_for_run_completion(self.run_id, timeout)

    def __repr__(self) -> str:
        return f"<RunPipelineResult run_id={self.run_id}>"


def _experiment(document: dict[str, Any]) -> RemoteExperiment:
    return RemoteExperiment(
        id=str(document["id"]),
        name=str(document["name"]),
        description=str(document.get("description") or ""),
        created_at=document.get("createdAt"),
        namespace=str(document.get("namespace") or "default"),
    )


class RemoteClient:
    """The HTTP client behind `kfp.Client(host=...)` (see the module docstring)."""

    def __init__(
        self, host: str, namespace: str | None = None, timeout: float = 60.0, token: str | None = None
    ) -> None:
        self.host = host.rstrip("/")
        self.namespace = namespace or "default"
        token = token or os.environ.get(TOKEN_ENV)
        headers = {"Authorization": f"Bearer {token.strip()}"} if token and token.strip() else {}
        self._http = httpx.Client(base_url=self.host, timeout=timeout, headers=headers)

    def __repr__(self) -> str:  # never the token
        return f"RemoteClient({self.host!r})"

    def close(self) -> None:
        self._http.close()

    # --- HTTP ------------------------------------------------------------------------------------------

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            reply = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise LaunchError(
                f"cannot reach the pipelines server at {self.host}: {exc}; start one with `tuner server`, use "
                "Client() without a host to run locally, or set TUNER_PIPELINES_HOST=local to run locally "
                "whatever host the code names"
            ) from None
        if reply.status_code < 300:
            return reply.json()
        try:
            body = reply.json()
        except ValueError:
            body = {"detail": reply.text[:300] or reply.reason_phrase}
        detail = str(body.get("detail") or reply.reason_phrase)
        if reply.status_code == 422 and body.get("problems"):
            raise SpecError([Problem(p["path"], p["message"]) for p in body["problems"]], self.host)
        if reply.status_code == 404:
            raise NotFoundError(detail)
        if reply.status_code == 409:
            raise AlreadyExistsError(detail)
        if reply.status_code == 401:
            raise LaunchError(
                f"the pipelines server refused the request ({detail}): pass existing_token= or set {TOKEN_ENV}"
            )
        raise TunerError(f"the pipelines server answered {reply.status_code} to {method} {path}: {detail}")

    def _ns(self, namespace: str | None) -> str:
        return namespace or self.namespace

    # --- experiments -------------------------------------------------------------------------------------

    def create_experiment(
        self, name: str, description: str | None = None, namespace: str | None = None
    ) -> RemoteExperiment:
        """The experiment `name`, created when new (KFP's client returns the existing one too)."""
        try:
            return self.get_experiment(experiment_name=name, namespace=namespace)
        except NotFoundError:
            pass
        try:
            document = self._call(
                "POST",
                f"/api/v1/pipeline-experiments/{self._ns(namespace)}",
                json={"name": name, "description": description or ""},
            )
        except AlreadyExistsError:  # created by someone else meanwhile
            return self.get_experiment(experiment_name=name, namespace=namespace)
        return _experiment(document)

    def get_experiment(
        self,
        experiment_id: str | None = None,
        experiment_name: str | None = None,
        namespace: str | None = None,
    ) -> RemoteExperiment:
        """By name or by id (exactly one).

        Raises:
            NotFoundError: no such experiment in the namespace.
        """
        if (experiment_id is None) == (experiment_name is None):
            raise SpecError(
                [Problem("experiment_id", "give exactly one of experiment_id and experiment_name")]
            )
        if experiment_name is not None:
            return _experiment(
                self._call("GET", f"/api/v1/pipeline-experiments/{self._ns(namespace)}/{experiment_name}")
            )
        for experiment in self.list_experiments(namespace=namespace).experiments:
            if experiment.id == experiment_id:
                return experiment
        raise NotFoundError(
            f"no pipeline experiment with id {experiment_id!r} in namespace {self._ns(namespace)!r}"
        )

    def list_experiments(
        self,
        page_token: str = "",
        page_size: int = 10_000,
        sort_by: str = "",
        namespace: str | None = None,
        **_: Any,
    ) -> RemoteExperimentList:
        documents = self._call("GET", f"/api/v1/pipeline-experiments/{self._ns(namespace)}")["experiments"]
        experiments = [_experiment(d) for d in documents]
        return RemoteExperimentList(experiments, len(experiments))

    # --- pipelines ---------------------------------------------------------------------------------------

    def upload_pipeline(
        self, pipeline_package_path: str, pipeline_name: str | None = None, description: str | None = None
    ) -> dict[str, Any]:
        """Upload a compiled package (KFP's upload_pipeline); returns the pipeline with its versions."""
        data = Path(pipeline_package_path).read_bytes()
        params = {k: v for k, v in {"name": pipeline_name, "description": description}.items() if v}
        result: dict[str, Any] = self._call(
            "POST",
            f"/api/v1/pipelines/{self.namespace}",
            content=data,
            params=params,
            headers={"content-type": "application/octet-stream"},
        )
        return result

    def list_pipelines(self, **_: Any) -> list[dict[str, Any]]:
        return list(
            self._call("GET", f"/api/v1/pipelines/{self.namespace}", params={"limit": 500})["pipelines"]
        )

    def get_pipeline_id(self, name: str) -> str | None:
        try:
            return str(self._call("GET", f"/api/v1/pipelines/{self.namespace}/{name}")["id"])
        except NotFoundError:
            return None

    # --- runs --------------------------------------------------------------------------------------------

    def _create_run(
        self,
        body: dict[str, Any],
        arguments: dict[str, Any] | None,
        run_name: str | None,
        experiment_name: str | None,
        namespace: str | None,
        enable_caching: bool | None,
    ) -> RemoteRun:
        body = {
            **body,
            "arguments": dict(arguments or {}),
            "name": run_name,
            "experimentName": experiment_name,
            "enableCaching": enable_caching is not False,
        }
        return RemoteRun.of(self._call("POST", f"/api/v1/runs/{self._ns(namespace)}", json=body))

    def create_run_from_pipeline_func(
        self,
        pipeline_func: Any,
        arguments: dict[str, Any] | None = None,
        run_name: str | None = None,
        experiment_name: str | None = None,
        pipeline_conf: Any = None,
        namespace: str | None = None,
        enable_caching: bool | None = None,
        **_ignored: Any,
    ) -> RemoteRunResult:
        """Compile the pipeline here and run it on the server (it returns at once; the run goes on there)."""
        spec = as_spec(pipeline_func, pipeline_conf)
        run = self._create_run(
            {"pipelineSpec": dump(spec)}, arguments, run_name, experiment_name, namespace, enable_caching
        )
        return RemoteRunResult(self, run)

    def create_run_from_pipeline_package(
        self,
        pipeline_file: str,
        arguments: dict[str, Any] | None = None,
        run_name: str | None = None,
        experiment_name: str | None = None,
        namespace: str | None = None,
        enable_caching: bool | None = None,
        **_ignored: Any,
    ) -> RemoteRunResult:
        """Run a compiled package (.yaml, .zip, .tar.gz) on the server."""
        spec = load_pipeline(pipeline_file)
        run = self._create_run(
            {"pipelineSpec": dump(spec)}, arguments, run_name, experiment_name, namespace, enable_caching
        )
        return RemoteRunResult(self, run)

    def run_pipeline(
        self,
        experiment_id: str | None = None,
        job_name: str | None = None,
        pipeline_package_path: str | None = None,
        params: dict[str, Any] | None = None,
        pipeline_id: str | None = None,
        version_id: str | None = None,
        enable_caching: bool | None = None,
        **_ignored: Any,
    ) -> RemoteRun:
        """KFP v1 run_pipeline: a package path, or an uploaded pipeline's id (its newest version)."""
        experiment = self.get_experiment(experiment_id=experiment_id).name if experiment_id else None
        if pipeline_package_path is not None:
            body: dict[str, Any] = {"pipelineSpec": dump(load_pipeline(pipeline_package_path))}
        elif pipeline_id is not None:
            names = {str(p["id"]): p for p in self.list_pipelines()}
            if pipeline_id not in names:
                raise NotFoundError(f"no pipeline with id {pipeline_id!r} in namespace {self.namespace!r}")
            pipeline = names[pipeline_id]
            body = {"pipeline": pipeline["name"]}
            if version_id is not None:
                versions = {str(v["id"]): v["name"] for v in pipeline["versions"]}
                if version_id not in versions:
                    raise NotFoundError(
                        f"pipeline {pipeline['name']!r} has no version with id {version_id!r}"
                    )
                body["version"] = versions[version_id]
        else:
            raise SpecError([Problem("pipeline_package_path", "give pipeline_package_path or pipeline_id")])
        return self._create_run(body, params, job_name, experiment, None, enable_caching)

    def get_run(self, run_id: str, namespace: str | None = None) -> RemoteRunDetail:
        """The run with its tasks (`.run.status`, `.run.tasks`)."""
        return RemoteRunDetail(
            RemoteRun.of(self._call("GET", f"/api/v1/runs/{self._ns(namespace)}/{run_id}"))
        )

    def list_runs(
        self,
        page_token: str = "",
        page_size: int = 100,
        sort_by: str = "",
        experiment_id: str | None = None,
        namespace: str | None = None,
        experiment_name: str | None = None,
        **_: Any,
    ) -> RemoteRunList:
        """Runs, oldest first, of one experiment when asked; `page_token` is the previous `next_page_token`."""
        if experiment_id is not None and experiment_name is None:
            experiment_name = self.get_experiment(experiment_id=experiment_id, namespace=namespace).name
        params: dict[str, Any] = {"limit": max(1, min(page_size, 500))}
        if page_token:
            params["cursor"] = page_token
        if experiment_name:
            params["experiment"] = experiment_name
        page = self._call("GET", f"/api/v1/runs/{self._ns(namespace)}", params=params)
        runs = [RemoteRun.of(d) for d in page["runs"]]
        return RemoteRunList(runs, len(runs), page.get("nextCursor") or "")

    def wait_for_run_completion(
        self, run_id: str, timeout: float | None = None, sleep_duration: float = 1.0
    ) -> RemoteRunDetail:
        """Poll the run until it has finished (Succeeded, Failed or Cancelled).

        Raises:
            TimeoutError: it had not finished after `timeout` seconds (None: wait as long as it takes).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = min(0.2, sleep_duration)
        while True:
            detail = self.get_run(run_id)
            if detail.run.status in FINISHED:
                return detail
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(
                    f"run {run_id} is still {detail.run.status} after {timeout:g} s (the run goes on on the server)"
                )
            wait = pause if deadline is None else max(0.0, min(pause, deadline - time.monotonic()))
            time.sleep(wait)
            pause = min(sleep_duration, pause * 2)

    def cancel_run(self, run_id: str, namespace: str | None = None) -> RemoteRunDetail:
        """Stop the run (its tasks end Cancelled)."""
        return RemoteRunDetail(
            RemoteRun.of(self._call("POST", f"/api/v1/runs/{self._ns(namespace)}/{run_id}/cancel"))
        )

    # KFP v2 spelling
    terminate_run = cancel_run
