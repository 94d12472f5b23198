"""What a database or filesystem failure means to the person running tuner, in one line.

SQLAlchemy, SQLite and psycopg report an unreachable server, a full or read-only disk or a file that is not
a database as driver exceptions with multi-line messages and a link to SQLAlchemy's docs. `explain` turns
them into tuner's errors, each saying what failed, where, and what to do:

    ConfigError             the store named is wrong (not a database file, no such database or role,
                            refused credentials): fix --store or TUNER_STORE
    StoreUnavailableError   the store is right but cannot be used now (server down, disk full, read-only,
                            I/O error, locked for too long): fix the environment and run again

`open_store` and the `tuner db` helpers raise these; the CLI also passes failures that happen later (a
disk filling up mid-run) through `explain`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from tuner.errors import ConfigError, StoreUnavailableError, TunerError
from tuner.store._engine import sqlite_path

FIX_URL = "point --store or TUNER_STORE at a tuner store"
ELSEWHERE = "or use another store (--store or TUNER_STORE)"

# SQLite's primary result codes (sqlite3 exceptions name them in `sqlite_errorname`, e.g. SQLITE_IOERR_WRITE)
_SQLITE_HINTS: dict[str, tuple[type[TunerError], str, str]] = {
    "SQLITE_NOTADB": (ConfigError, "is not a SQLite database", FIX_URL + " or a path for a new one"),
    "SQLITE_CORRUPT": (ConfigError, "is damaged (SQLite reports corruption)", "restore it from a backup"),
    "SQLITE_FULL": (StoreUnavailableError, "cannot be written: the disk is full", "free space " + ELSEWHERE),
    "SQLITE_READONLY": (
        StoreUnavailableError,
        "cannot be written: the file or its disk is read-only",
        "make it writable " + ELSEWHERE,
    ),
    "SQLITE_CANTOPEN": (
        StoreUnavailableError,
        "cannot be opened for writing",
        "check that its folder exists and is writable, not on a read-only disk (SQLite creates the file "
        "and its -wal and -shm files there), " + ELSEWHERE,
    ),
    "SQLITE_IOERR": (
        StoreUnavailableError,
        "cannot be read or written: the disk reported an I/O error",
        "check the disk (full, removed, a file-size limit?) " + ELSEWHERE,
    ),
    "SQLITE_BUSY": (
        StoreUnavailableError,
        "stayed locked by another process for too long",
        "retry when the other tuner process is done",
    ),
    "SQLITE_LOCKED": (
        StoreUnavailableError,
        "stayed locked by another process for too long",
        "retry when the other tuner process is done",
    ),
}

_PG_WRONG_URL = re.compile(
    r'(database "[^"]*" does not exist|role "[^"]*" does not exist|password authentication failed'
    r"|no pg_hba\.conf entry|invalid dsn|invalid connection option)"
)
_PG_STATES: dict[str, tuple[type[TunerError], str, str]] = {
    "53100": (StoreUnavailableError, "cannot be written: the server's disk is full", "free space on it"),
    "25006": (StoreUnavailableError, "is read-only (a standby server?)", "use the primary server"),
    "57P01": (StoreUnavailableError, "was shut down while in use", "run the command again once it is up"),
    "57P03": (StoreUnavailableError, "is starting up or shutting down", "run the command again shortly"),
}


def display_url(url: str) -> str:
    """The URL with its password masked, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def explain(exc: BaseException, url: str | None = None) -> TunerError | None:
    """Tuner's readable error for a database or filesystem failure of the store, or None if it is not one.

    `url` names the store in the message when known (the password masked).
    """
    where = f"the store {display_url(url)}" if url else "the store"
    if isinstance(exc, DBAPIError):
        return _explain_driver(exc.orig, where) if exc.orig is not None else None
    if type(exc).__module__ in ("sqlite3", "psycopg", "psycopg.errors"):
        return _explain_driver(exc, where)
    return None


def _explain_driver(orig: BaseException, where: str) -> TunerError | None:
    name = getattr(orig, "sqlite_errorname", None)
    if isinstance(name, str):
        primary = "_".join(name.split("_")[:2])  # SQLITE_IOERR_WRITE -> SQLITE_IOERR
        kind, what, fix = _SQLITE_HINTS.get(
            primary, (StoreUnavailableError, "failed", "run the command again " + ELSEWHERE)
        )
        return kind(f"{where} {what} (SQLite: {orig}); {fix}")
    if type(orig).__module__.startswith("psycopg"):
        reason = _first_line(str(orig))
        state = getattr(orig, "sqlstate", None)
        if state in _PG_STATES:
            kind, what, fix = _PG_STATES[state]
            return kind(f"{where} {what} (PostgreSQL: {reason}); {fix}")
        if reason.startswith("connection failed") or state is None:
            if _PG_WRONG_URL.search(reason):
                return ConfigError(f"cannot connect to {where}: {reason}; fix the URL ({FIX_URL})")
            return StoreUnavailableError(
                f"cannot connect to {where}: {reason}; check that the PostgreSQL server is running and "
                f"reachable, {ELSEWHERE}"
            )
        return StoreUnavailableError(f"{where} failed (PostgreSQL: {reason}); run the command again")
    return None


def _creating_folder_of(url: str, exc: OSError) -> bool:
    """Whether `exc` came from creating the folders of the SQLite file named by `url`."""
    try:
        path = sqlite_path(url)
    except ArgumentError:
        return False
    if path is None or not exc.filename:
        return False
    failed = Path(os.fsdecode(exc.filename))
    return failed == path.parent or failed in path.parent.parents


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return re.sub(r"\s+", " ", lines[0]) if lines else text


@contextmanager
def explained(url: str) -> Iterator[None]:
    """Re-raise database failures, and filesystem failures while opening, as tuner's readable errors."""
    try:
        yield
    except TunerError:
        raise
    except OSError as exc:
        if not _creating_folder_of(url, exc):
            raise
        failed = Path(os.fsdecode(exc.filename))
        blocker = next((p for p in (failed, *failed.parents) if p.exists()), None)
        if blocker is not None and not blocker.is_dir():
            reason = f"{blocker} is a file, not a folder"
        else:
            reason = f"{exc.strerror or exc} ({failed})"
        raise StoreUnavailableError(
            f"cannot create the folder of the store {display_url(url)}: {reason}; "
            f"give a path whose folders can be created, {ELSEWHERE}"
        ) from exc
    except Exception as exc:
        readable = explain(exc, url)
        if readable is None:
            raise
        raise readable from exc
