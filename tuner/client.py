"""`tuner.Client`: read experiments and trials from the store, in the spirit of `KatibClient`.

Objects come back as Katib-shaped dicts (`tuner.views`), so code written against Katib's SDK output
(`status.currentOptimalTrial`, trial `status.observation.metrics`) reads them unchanged. A remote server
(`tuner server`) will be reachable through the same class once it exists; today the client opens the store.
"""

from __future__ import annotations

from typing import Any

from tuner.config import Settings
from tuner.store import Store, open_store
from tuner.views import experiment_document, trial_documents


class Client:
    """Read access to experiments and trials.

    Args:
        store: a store URL (default: TUNER_STORE, else the embedded SQLite store).
        namespace: the default namespace of the calls.
    """

    def __init__(self, store: str | None = None, namespace: str = "default") -> None:
        self._store: Store = open_store(Settings.from_env(store_url=store).store_url)
        self.namespace = namespace

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def list_experiments(self, namespace: str | None = None) -> list[dict[str, Any]]:
        return [experiment_document(r) for r in self._store.list_experiments(namespace or self.namespace)]

    def get_experiment(self, name: str, namespace: str | None = None) -> dict[str, Any]:
        """The Experiment with its status. Raises NotFoundError."""
        return experiment_document(self._store.get_experiment(name, namespace or self.namespace))

    def get_experiment_conditions(self, name: str, namespace: str | None = None) -> list[dict[str, Any]]:
        return list(self.get_experiment(name, namespace).get("status", {}).get("conditions") or [])

    def is_experiment_succeeded(self, name: str, namespace: str | None = None) -> bool:
        return self._has_condition(name, namespace, "Succeeded")

    def is_experiment_failed(self, name: str, namespace: str | None = None) -> bool:
        return self._has_condition(name, namespace, "Failed")

    def is_experiment_running(self, name: str, namespace: str | None = None) -> bool:
        return self._has_condition(name, namespace, "Running")

    def list_trials(self, experiment_name: str, namespace: str | None = None) -> list[dict[str, Any]]:
        record = self._store.get_experiment(experiment_name, namespace or self.namespace)
        return trial_documents(self._store, record)

    def get_trial(self, name: str, experiment_name: str, namespace: str | None = None) -> dict[str, Any]:
        record = self._store.get_experiment(experiment_name, namespace or self.namespace)
        trial = self._store.get_trial_by_name(record.id, name)
        return trial_documents(self._store, record, [trial])[0]

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

    def _has_condition(self, name: str, namespace: str | None, kind: str) -> bool:
        return any(
            c.get("type") == kind and c.get("status") == "True"
            for c in self.get_experiment_conditions(name, namespace)
        )
