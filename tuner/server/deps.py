"""What request handlers share: the store, the experiment drivers, and lookups that answer 404."""

from __future__ import annotations

from fastapi import Request

from tuner.server.drivers import Drivers
from tuner.store import Store
from tuner.store.records import Experiment as StoredExperiment
from tuner.store.records import Trial


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def drivers_of(request: Request) -> Drivers:
    drivers: Drivers = request.app.state.drivers
    return drivers


def experiment_or_404(store: Store, namespace: str, name: str) -> StoredExperiment:
    """Raises NotFoundError (answered 404) naming the namespace."""
    return store.get_experiment(name, namespace)


def trial_or_404(store: Store, record: StoredExperiment, trial: str) -> Trial:
    return store.get_trial_by_name(record.id, trial)
