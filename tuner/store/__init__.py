"""The metadata store: one database for experiments, trials, metrics, pipelines, artifacts' lineage,
models and serving state.

Open it with `open_store()`; talk to it through the `Store` contract (`tuner.store.base`) and the records
in `tuner.store.records`. Only this package imports SQLAlchemy and Alembic.

    >>> from tuner.store import open_store
    >>> store = open_store("sqlite://")          # in-memory; the default is a file in the data folder
    >>> experiment = store.create_experiment("demo", spec={"parameters": []}, spec_digest="sha256:0")
    >>> experiment.state.value
    'Created'
    >>> store.close()
"""

from __future__ import annotations

from pathlib import Path

from tuner.config import Settings
from tuner.errors import TunerError
from tuner.store.base import Store, StoreReader
from tuner.store.records import DEFAULT_NAMESPACE

__all__ = ["DEFAULT_NAMESPACE", "Store", "StoreReader", "explain_failure", "open_store", "store_exists"]


def store_exists(url: str) -> bool:
    """Whether opening `url` would find an existing database rather than create one (SQLite files only;
    a server database is taken to exist). Read-only callers use it so that a lookup never creates a store."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return True
    database = parsed.database or ""
    return database not in ("", ":memory:") and Path(database).expanduser().exists()


def open_store(url: str | None = None, settings: Settings | None = None) -> Store:
    """Open the store at `url` (default: `settings.store_url`, itself defaulting to SQLite in the data
    folder), creating the database file's folder and migrating the schema to the current revision.

    Raises:
        ConfigError: the URL is malformed, names an unsupported backend, a file that is not a database, a
            database that does not exist or credentials the server refuses.
        StoreUnavailableError: the database cannot be reached or written (server down, full or read-only
            disk); the message says where and what to do.
        StoreError: the database's schema is newer than this tuner.
    """
    from tuner.store._failures import explained
    from tuner.store.migrate import ensure_current
    from tuner.store.sql import SqlStore

    if url is None:
        url = (settings or Settings.from_env()).store_url
    with explained(url):
        store = SqlStore(url)
        try:
            ensure_current(store.engine)
        except BaseException:
            store.close()
            raise
    return store


def explain_failure(exc: BaseException) -> TunerError | None:
    """A readable error for a database failure that happened after opening (e.g. the disk filled up),
    or None when `exc` is not one; see `tuner.store._failures`."""
    from tuner.store._failures import explain

    return explain(exc)
