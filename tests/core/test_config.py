from pathlib import Path

import pytest

from tuner.config import Settings
from tuner.errors import ConfigError


def test_defaults_live_in_the_data_folder(tmp_path: Path) -> None:
    settings = Settings.from_env({"TUNER_HOME": str(tmp_path)})
    assert settings.store_url == f"sqlite:///{tmp_path / 'tuner.db'}"
    assert settings.artifacts_url == str(tmp_path / "artifacts")


def test_environment_then_flags(tmp_path: Path) -> None:
    env = {"TUNER_HOME": str(tmp_path), "TUNER_STORE": "postgresql+psycopg://u@h/db"}
    assert Settings.from_env(env).store_url == "postgresql+psycopg://u@h/db"
    flagged = Settings.from_env(env, store_url="sqlite:///x.db")
    assert flagged.store_url == "sqlite:///x.db"
    # the artifacts default does not follow the store's backend
    assert flagged.artifacts_url == str(tmp_path / "artifacts")


def test_bare_path_store_is_sqlite(tmp_path: Path) -> None:
    settings = Settings.from_env({"TUNER_HOME": str(tmp_path), "TUNER_STORE": str(tmp_path / "a.db")})
    assert settings.store_url == f"sqlite:///{tmp_path / 'a.db'}"


def test_empty_variable_is_refused_with_its_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="TUNER_STORE"):
        Settings.from_env({"TUNER_HOME": str(tmp_path), "TUNER_STORE": "  "})


@pytest.mark.parametrize("word", ["notaurl", "tuner", "postgres", "my-store", "runs/tuner"])
def test_a_bare_word_is_refused_not_made_a_file(tmp_path: Path, word: str) -> None:
    with pytest.raises(ConfigError) as env_error:
        Settings.from_env({"TUNER_HOME": str(tmp_path), "TUNER_STORE": word})
    assert str(env_error.value) == (
        f"TUNER_STORE {word!r} is not a store URL; use sqlite:///PATH (a file), "
        "postgresql+psycopg://USER@HOST:PORT/DB, or a file path ending in .db, .sqlite, .sqlite3"
    )
    with pytest.raises(ConfigError, match=f"store {word!r} is not a store URL"):
        Settings.from_env({"TUNER_HOME": str(tmp_path)}, store_url=word)


@pytest.mark.parametrize("name", ["a.db", "b.sqlite", "c.sqlite3", "D.DB"])
def test_a_path_with_a_database_suffix_is_a_sqlite_file(tmp_path: Path, name: str) -> None:
    settings = Settings.from_env({"TUNER_HOME": str(tmp_path)}, store_url=str(tmp_path / name))
    assert settings.store_url == f"sqlite:///{tmp_path / name}"
