"""`tuner.Client`: read experiments and trials from the store, in the spirit of `KatibClient`.

Objects come back as Katib-shaped dicts (`tuner.views`), so code written against Katib's SDK output
(`status.currentOptimalTrial`, trial `status.observation.metrics`) reads them unchanged. For analysis,
`trials_dataframe` and `metric_history` give pandas DataFrames (pandas is imported only when they are
called). With `host=URL` the same methods read a running `tuner server` over HTTP instead of opening the store
(`trials_dataframe` and `metric_history` need the store for now); `token=` (or TUNER_TOKEN) is sent as a
bearer token to a server that has authentication.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NoReturn

from tuner.config import Settings
from tuner.errors import NotFoundError, Problem, SpecError, TunerError
from tuner.lookups import find_experiment, find_trial
from tuner.store import Store, open_store
from tuner.views import (
    experiment_document,
    iter_rows,
    metric_names,
    objective_of,
    search_space,
    trial_documents,
    trial_row,
)

if TYPE_CHECKING:
    import pandas

TOKEN_ENV = "TUNER_TOKEN"


class Client:
    """Read access to experiments and trials.

    Args:
        store: a store URL (default: TUNER_STORE, else the embedded SQLite store).
        namespace: the default namespace of the calls.
        host: the URL of a `tuner server` to read from instead of a store.
        token: the bearer token for `host` (default: TUNER_TOKEN), when the server has authentication.
    """

    def __init__(
        self,
        store: str | None = None,
        namespace: str = "default",
        host: str | None = None,
        token: str | None = None,
    ) -> None:
        self._remote = _Remote(host, token or os.environ.get(TOKEN_ENV)) if host else None
        self._local: Store | None = None
        if self._remote is None:
            self._local = open_store(Settings.from_env(store_url=store).store_url)
        self.namespace = namespace

    @property
    def _store(self) -> Store:
        if self._local is None:
            raise TunerError(
                "this needs the store: open tuner.Client(store=...) on the server's store instead of host="
            )
        return self._local

    def close(self) -> None:
        if self._remote is not None:
            self._remote.close()
        if self._local is not None:
            self._local.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def list_experiments(self, namespace: str | None = None) -> list[dict[str, Any]]:
        if self._remote is not None:
            return self._remote.items("/api/v1/experiments", {"namespace": namespace or self.namespace})
        return [experiment_document(r) for r in self._store.list_experiments(namespace or self.namespace)]

    def get_experiment(self, name: str, namespace: str | None = None) -> dict[str, Any]:
        """The Experiment with its status.

        Raises:
            NotFoundError: saying in which namespace it exists, or which name was probably meant.
        """
        if self._remote is not None:
            return self._remote.get(f"/api/v1/experiments/{namespace or self.namespace}/{name}")
        return experiment_document(find_experiment(self._store, name, namespace or self.namespace))

    def get_experiment_conditions(self, name: str, namespace: str | None = None) -> list[dict[str, Any]]:
        return list(self.get_experiment(name, namespace).get("status", {}).get("conditions") or [])

    def is_experiment_succeeded(self, name: str, namespace: str | None = None) -> bool:
        return self._has_condition(name, namespace, "Succeeded")

    def is_experiment_failed(self, name: str, namespace: str | None = None) -> bool:
        return self._has_condition(name, namespace, "Failed")

    def is_experiment_running(self, name: str, namespace: str | None = None) -> bool:
        return self._has_condition(name, namespace, "Running")

    def list_trials(self, experiment_name: str, namespace: str | None = None) -> list[dict[str, Any]]:
        if self._remote is not None:
            return self._remote.items(
                f"/api/v1/experiments/{namespace or self.namespace}/{experiment_name}/trials"
            )
        record = find_experiment(self._store, experiment_name, namespace or self.namespace)
        return trial_documents(self._store, record)

    def get_trial(
        self, name: str, experiment_name: str | None = None, namespace: str | None = None
    ) -> dict[str, Any]:
        """The Trial by full name, unique prefix or short suffix (the experiment is optional; with `host`
        it is required and the name must be full)."""
        if self._remote is not None:
            if experiment_name is None:
                raise TunerError("with host=, get_trial needs experiment_name")
            path = f"/api/v1/experiments/{namespace or self.namespace}/{experiment_name}/trials/{name}"
            return self._remote.get(path)
        if experiment_name is not None:
            record = find_experiment(self._store, experiment_name, namespace or self.namespace)
            trial = self._store.get_trial_by_name(record.id, name)
        else:
            trial = find_trial(self._store, name, namespace or self.namespace)
            record = self._store.get_experiment_by_id(trial.experiment_id)
        return trial_documents(self._store, record, [trial])[0]

    def trials_dataframe(self, name: str, namespace: str | None = None) -> pandas.DataFrame:
        """One row per trial, by trial number (see `tuner.views.trial_row` for the columns): number, name,
        state, value (the objective by the experiment's metric strategy), `params_<name>` with typed
        values, `<metric>_final` and `<metric>_best` per metric, datetime_start, datetime_complete,
        duration (seconds) and folder.
        """
        import pandas

        record = find_experiment(self._store, name, namespace or self.namespace)
        objective = objective_of(record)
        names = metric_names(record)
        space = search_space(record)
        rows = [trial_row(record, row, objective, names, space) for row in iter_rows(self._store, record)]
        frame = pandas.DataFrame(rows)
        for column in ("datetime_start", "datetime_complete"):
            if column in frame:
                frame[column] = pandas.to_datetime(frame[column], utc=True)
        return frame

    def metric_history(
        self, trial: str, name: str | None = None, namespace: str | None = None
    ) -> pandas.DataFrame:
        """Every value a trial reported for metric `name` (default: the objective), one row per step:
        columns step, value, timestamp (UTC). The trial is named in full, by a unique prefix or by its
        short suffix."""
        import pandas

        found = find_trial(self._store, trial, namespace or self.namespace)
        if name is None:
            name = objective_of(self._store.get_experiment_by_id(found.experiment_id)).metric
        points = self._store.metric_series(found.id, name)
        frame = pandas.DataFrame(
            {
                "step": pandas.array([p.step for p in points], dtype="Int64"),
                "value": [p.value for p in points],
                "timestamp": pandas.to_datetime([p.timestamp for p in points], unit="s", utc=True),
            }
        )
        return frame

    def get_success_trial_details(
        self, experiment_name: str, namespace: str | None = None
    ) -> list[dict[str, Any]]:
        """[{name, parameter_assignments, metrics}] of the Succeeded trials, as KatibClient returns."""
        details = []
        for trial in self.list_trials(experiment_name, namespace):
            if any(
                c.get("type") == "Succeeded" and c.get("status") == "True"
                for c in trial["status"]["conditions"]
            ):
                details.append(
                    {
                        "name": trial["metadata"]["name"],
                        "parameter_assignments": trial["spec"]["parameterAssignments"],
                        "metrics": trial["status"].get("observation", {}).get("metrics", []),
                    }
                )
        return details

    def get_optimal_hyperparameters(self, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        """`status.currentOptimalTrial`, or None while no trial has reported its objective."""
        optimal = self.get_experiment(name, namespace).get("status", {}).get("currentOptimalTrial")
        return optimal if optimal and optimal.get("bestTrialName") else None  # Katib's empty struct: none

    # --- what only a server does (host=...) ------------------------------------------------------------

    def _server(self, what: str) -> _Remote:
        if self._remote is None:
            raise TunerError(f"{what} needs a server: tuner.Client(host=URL) of a running `tuner server`")
        return self._remote

    def stop_experiment(self, name: str, namespace: str | None = None) -> dict[str, Any]:
        """Stop a submitted experiment on the server (it stays resumable); returns the Experiment."""
        path = f"/api/v1/experiments/{namespace or self.namespace}/{name}/stop"
        return self._server("stop_experiment").request("POST", path, timeout=120)

    def delete_experiment(self, name: str, namespace: str | None = None) -> None:
        """Delete a submitted experiment with its trials on the server."""
        path = f"/api/v1/experiments/{namespace or self.namespace}/{name}"
        self._server("delete_experiment").request("DELETE", path, timeout=120)

    def edit_experiment_budget(
        self,
        name: str,
        namespace: str | None = None,
        max_trial_count: int | None = None,
        parallel_trial_count: int | None = None,
        max_failed_trial_count: int | None = None,
    ) -> dict[str, Any]:
        """KatibClient.edit_experiment_budget: change the counts of a running experiment on the server."""
        counts = {
            "maxTrialCount": max_trial_count,
            "parallelTrialCount": parallel_trial_count,
            "maxFailedTrialCount": max_failed_trial_count,
        }
        body = {"spec": {k: v for k, v in counts.items() if v is not None}}
        path = f"/api/v1/experiments/{namespace or self.namespace}/{name}"
        return self._server("edit_experiment_budget").request("PATCH", path, json=body)

    def get_suggestion(self, name: str, namespace: str | None = None) -> dict[str, Any]:
        """The experiment's Suggestion (algorithm, settings, requests, state) from the server."""
        path = f"/api/v1/experiments/{namespace or self.namespace}/{name}/suggestion"
        return self._server("get_suggestion").get(path)

    def trial_logs(
        self, name: str, experiment_name: str, namespace: str | None = None, follow: bool = False
    ) -> Iterator[str]:
        """A trial's output from the server, in pieces; with `follow` until the trial ends."""
        path = f"/api/v1/experiments/{namespace or self.namespace}/{experiment_name}/trials/{name}/logs"
        return self._server("trial_logs").stream(path, {"follow": "true" if follow else "false"})

    def _has_condition(self, name: str, namespace: str | None, kind: str) -> bool:
        return any(
            c.get("type") == kind and c.get("status") == "True"
            for c in self.get_experiment_conditions(name, namespace)
        )


class _Remote:
    """Reads a `tuner server` over HTTP; problem bodies become the errors the local path raises."""

    def __init__(self, host: str, token: str | None = None) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {token.strip()}"} if token and token.strip() else {}
        self._http = httpx.Client(base_url=host.rstrip("/"), timeout=30, headers=headers)

    def __repr__(self) -> str:  # never the token
        return f"_Remote({str(self._http.base_url)!r})"

    def close(self) -> None:
        self._http.close()

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.request("GET", path, params={k: v for k, v in (params or {}).items() if v is not None})

    def request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """One call; a JSON answer (an empty dict for 204), or the error the problem body names."""
        import httpx

        try:
            reply = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise TunerError(
                f"cannot reach the tuner server at {self._http.base_url}: {exc}; is `tuner server` running?"
            ) from None
        if reply.status_code == 204:
            return {}
        if reply.status_code < 300:
            body: dict[str, Any] = reply.json()
            return body
        self._raise(reply, path)

    def stream(self, path: str, params: dict[str, Any]) -> Iterator[str]:
        """A text response in pieces as the server sends them."""
        with self._http.stream("GET", path, params=params, timeout=None) as reply:
            if reply.status_code != 200:
                reply.read()
                self._raise(reply, path)
            yield from reply.iter_text()

    def _raise(self, reply: Any, path: str) -> NoReturn:
        try:
            detail = reply.json().get("detail") or reply.reason_phrase
        except ValueError:
            detail = reply.text[:200] or reply.reason_phrase
        if reply.status_code == 404:
            raise NotFoundError(detail)
        if reply.status_code == 401:
            raise TunerError(f"the server refused the request ({detail}): pass token= or set {TOKEN_ENV}")
        if reply.status_code == 403:
            raise TunerError(f"the server forbids {path}: {detail}")
        if reply.status_code == 422:
            try:
                problems = reply.json().get("problems") or []
            except ValueError:
                problems = []
            if problems:
                raise SpecError(
                    [Problem(p["path"], p["message"]) for p in problems], str(self._http.base_url)
                )
        raise TunerError(f"the server answered {reply.status_code} for {path}: {detail}")

    def items(self, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every item of a list endpoint, following its cursors."""
        out: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = self.get(path, {**(params or {}), "limit": 500, "cursor": cursor})
            out += page.get("items") or []
            cursor = (page.get("metadata") or {}).get("continue")
            if not cursor:
                return out
