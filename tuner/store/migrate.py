"""Bring a database's schema to the current revision, safely when several processes start at once.

Called by `tuner.store.open_store` on every open (a fast check: one query when already current) and by
`tuner db upgrade` / `tuner db current`. The migrations themselves are Alembic scripts in
`tuner/store/migrations/versions/`; this module only runs them.

Concurrency: the upgrade runs inside one write transaction that first takes a lock (SQLite: BEGIN
IMMEDIATE, the database's write lock; PostgreSQL: a transaction-level advisory lock) and then re-reads
the revision, so two processes opening a new database at the same moment migrate it once. Both backends
have transactional DDL, so a failed migration leaves the database at its previous revision.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

from tuner.errors import StoreError
from tuner.store._engine import make_engine, sqlite_path, write_transaction
from tuner.store._failures import display_url as display_url  # `tuner db` prints URLs with it
from tuner.store._failures import explained

if TYPE_CHECKING:  # Alembic costs ~0.3 s to import: only migrations and `tuner db` load it
    from alembic.config import Config

HEAD_REVISION = "0004"  # the newest revision in versions/; a test keeps it equal to Alembic's head
_VERSION_TABLE = "alembic_version"
_PG_LOCK_KEY = 7_315_202_601  # any fixed number; identifies "tuner schema migration" advisory locks


def alembic_config() -> Config:
    """An Alembic configuration pointing at the migrations shipped in this package (no alembic.ini)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "tuner.store:migrations")
    return config


@lru_cache(maxsize=1)
def known_revisions() -> tuple[str, ...]:
    """Every revision this version of tuner knows, oldest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return tuple(reversed([rev.revision for rev in script.walk_revisions()]))


def head_revision() -> str:
    """The newest revision according to the scripts (what `upgrade` brings a database to)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


def current_revision(engine: Engine) -> str | None:
    """The database's revision, or None when it has never been migrated (empty or a new file)."""
    with engine.connect() as connection:
        return _read_revision(connection)


def _read_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table(_VERSION_TABLE):
        return None
    row = connection.execute(text(f"SELECT version_num FROM {_VERSION_TABLE}")).first()
    return None if row is None else str(row[0])


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Migrate the database to `revision` under the migration lock.

    Returns:
        The revision before and after.

    Raises:
        StoreError: the database is at a revision this tuner does not know (it is newer).
    """
    from alembic import command

    with write_transaction(engine) as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        before = _read_revision(connection)
        _refuse_unknown(before, engine)
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        after = _read_revision(connection)
    return before, after


def ensure_current(engine: Engine) -> None:
    """Migrate the database to the head revision unless it is there already (the common, cheap case).

    Raises:
        StoreError: the database is newer than this tuner.
    """
    revision = current_revision(engine)
    if revision == HEAD_REVISION:
        return
    _refuse_unknown(revision, engine)
    upgrade(engine)


def _refuse_unknown(revision: str | None, engine: Engine) -> None:
    if revision is not None and revision not in known_revisions():
        url = engine.url.render_as_string(hide_password=True)
        raise StoreError(
            f"the store {url} is at schema revision {revision!r}, which this tuner does not know "
            f"(it knows up to {HEAD_REVISION!r}); upgrade tuner to use this database"
        )


def database_revision(url: str) -> str | None:
    """The revision of the database at `url`, without creating or changing anything (None if empty).

    Raises:
        ConfigError: the URL is malformed, names an unsupported backend or a file that is not a database.
        StoreUnavailableError: the database cannot be reached.
    """
    path = sqlite_path(url)
    if path is not None and not path.exists():
        return None
    with explained(url):
        engine = make_engine(url)
        try:
            return current_revision(engine)
        finally:
            engine.dispose()


def upgrade_database(url: str, revision: str = "head") -> tuple[str | None, str | None]:
    """Create (SQLite: the file and its folder) and migrate the database at `url`; see `upgrade`.

    Raises:
        ConfigError, StoreUnavailableError: the URL is wrong, or the database cannot be reached or written.
    """
    with explained(url):
        engine = make_engine(url)
        try:
            return upgrade(engine, revision)
        finally:
            engine.dispose()
