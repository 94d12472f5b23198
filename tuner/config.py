"""Settings, read once at an entry point (CLI, server, `tuner.tune`) and passed down.

Precedence is flags, then `TUNER_*` environment variables, then these defaults. Nothing here is a
module-level singleton: call `Settings.from_env()` where the program starts and hand the object on.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from tuner.errors import ConfigError

APP_NAME = "tuner"
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


def default_data_dir() -> Path:
    """The per-user data folder (e.g. ~/.local/share/tuner on Linux), or TUNER_HOME when set."""
    home = os.environ.get("TUNER_HOME")
    return Path(home).expanduser() if home else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_store_url(data_dir: Path) -> str:
    """The embedded store: a SQLite file in the data folder."""
    return f"sqlite:///{data_dir / 'tuner.db'}"


@dataclass(frozen=True)
class Settings:
    """Everything a tuner process needs to know about where things live.

    Attributes:
        data_dir: per-user folder for the embedded store and artifacts (TUNER_HOME overrides it).
        store_url: SQLAlchemy URL of the metadata store (TUNER_STORE). Default: SQLite in `data_dir`.
        artifacts_url: where artifacts are written (TUNER_ARTIFACTS): a folder or an fsspec URL.
            Default: `data_dir/artifacts`, whatever the store's backend.
    """

    data_dir: Path = field(default_factory=default_data_dir)
    store_url: str = ""
    artifacts_url: str = ""

    def __post_init__(self) -> None:
        if not self.store_url:
            object.__setattr__(self, "store_url", default_store_url(self.data_dir))
        if not self.artifacts_url:
            object.__setattr__(self, "artifacts_url", str(self.data_dir / "artifacts"))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: str | Path | None) -> Settings:
        """Build settings from `TUNER_*` variables; non-None `overrides` (from flags) win."""
        env = os.environ if environ is None else environ
        home = env.get("TUNER_HOME")
        data_dir = Path(home).expanduser() if home else default_data_dir()
        values: dict[str, str | Path] = {"data_dir": data_dir}
        for attr, var in (("store_url", "TUNER_STORE"), ("artifacts_url", "TUNER_ARTIFACTS")):
            raw = env.get(var)
            if raw is not None:
                if not raw.strip():
                    raise ConfigError(f"{var} is set but empty; unset it to use the default or give a value")
                values[attr] = store_url(raw.strip(), var) if attr == "store_url" else raw.strip()
        for key, value in overrides.items():
            if value is not None:
                values[key] = store_url(str(value)) if key == "store_url" else value
        return cls(**values)  # type: ignore[arg-type]


STORE_FORMS = (
    "sqlite:///PATH (a file), postgresql+psycopg://USER@HOST:PORT/DB, "
    f"or a file path ending in {', '.join(SQLITE_SUFFIXES)}"
)


def store_url(value: str, source: str = "store") -> str:
    """A store URL as given, or a bare SQLite file path (`~/runs/tuner.db`) as its `sqlite:///` URL.

    Only paths ending in .db, .sqlite or .sqlite3 count as files: a bare word such as `notaurl` is far more
    likely a mistyped URL than a wish for a database file of that name in the current folder.

    Raises:
        ConfigError: `value` is neither a URL nor such a path; names `source` (e.g. TUNER_STORE).
    """
    value = value.strip()
    if "://" in value:
        return value
    if value.lower().endswith(SQLITE_SUFFIXES):
        return f"sqlite:///{Path(value).expanduser().resolve()}"
    raise ConfigError(f"{source} {value!r} is not a store URL; use {STORE_FORMS}")
