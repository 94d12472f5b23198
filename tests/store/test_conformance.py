"""The store's conformance suite (tuner.store.testing) on SQLite and on the real PostgreSQL."""

from tuner.store.testing import StoreConformance


class TestSqlStore(StoreConformance):
    """Runs every conformance test once per backend (see `store_url` in conftest.py)."""
