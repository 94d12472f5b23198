"""`open_store` raises tuner's own errors, with readable messages, for stores that cannot be used: the
Python API's callers get the same explanations as the CLI's users."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tuner.errors import ConfigError, StoreUnavailableError
from tuner.store import open_store


def test_an_unreachable_server_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(StoreUnavailableError) as error:
        open_store(f"postgresql+psycopg://postgres:secret@127.0.0.1:{port}/tuner")
    message = str(error.value)
    assert message.startswith(
        f"cannot connect to the store postgresql+psycopg://postgres:***@127.0.0.1:{port}/tuner"
    )
    assert "secret" not in message and "\n" not in message


def test_a_file_that_is_not_a_database_is_a_wrong_setting(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    path.write_bytes(b"\x00not sqlite" * 200)
    with pytest.raises(ConfigError, match="is not a SQLite database"):
        open_store(f"sqlite:///{path}")


def test_a_file_in_place_of_the_folder(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("")
    with pytest.raises(StoreUnavailableError, match=r"data is a file, not a folder"):
        open_store(f"sqlite:///{tmp_path / 'data' / 'tuner.db'}")
