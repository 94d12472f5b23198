"""Short pipeline run ids: `tuner pipelines runs show` takes the id, the name, a unique prefix, or the
8-character suffix the runner prints (`run 1a2b3c4d of ...`), on a real store."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tuner.cli import app
from tuner.errors import NotFoundError
from tuner.lookups import AmbiguousNameError, find_run
from tuner.store import open_store


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'tuner.db'}"
    store = open_store(url)
    try:
        store.create_run("calc-1a2b3c4d")
        store.create_run("calc-1a9f8e7d")
        store.create_run("nightly")
    finally:
        store.close()
    return url


def test_find_run_by_id_name_prefix_or_suffix(store_url: str) -> None:
    store = open_store(store_url)
    try:
        assert find_run(store, "2").name == "calc-1a9f8e7d"
        assert find_run(store, "nightly").id == 3
        assert find_run(store, "night").id == 3
        assert find_run(store, "1a2b").name == "calc-1a2b3c4d"
        with pytest.raises(AmbiguousNameError, match="several pipeline runs"):
            find_run(store, "1a")
        with pytest.raises(NotFoundError, match="no pipeline run zzz"):
            find_run(store, "zzz")
    finally:
        store.close()


def test_runs_show_takes_a_short_id(store_url: str) -> None:
    shown = CliRunner().invoke(app, ["pipelines", "runs", "show", "1a2b", "--store", store_url])
    assert shown.exit_code == 0 and "run 1 'calc-1a2b3c4d'" in shown.stdout
    missing = CliRunner().invoke(app, ["pipelines", "runs", "show", "9", "--store", store_url])
    assert missing.exit_code == 2 and "no pipeline run 9" in missing.stderr


def test_exact_matches_win_and_a_short_number_is_only_a_run_number(tmp_path: Path) -> None:
    """`runs show 9` means run 9 even when some run id starts with 9 (the lookup used to pick that run about
    one time in sixteen); an exact short id wins over another run's name that starts with the same text."""
    url = f"sqlite:///{tmp_path / 'tuner.db'}"
    store = open_store(url)
    try:
        store.create_run("calc-9f00aa11")
        store.create_run("calc-12345678")
        store.create_run("1a2b3c4d-nightly")
        store.create_run("calc-1a2b3c4d")
        with pytest.raises(NotFoundError, match="no pipeline run 9;"):
            find_run(store, "9")
        assert find_run(store, "9f").name == "calc-9f00aa11"
        assert find_run(store, "2").name == "calc-12345678"  # the run number
        assert find_run(store, "1234").name == "calc-12345678"  # four digits: the start of a short id
        assert find_run(store, "1a2b3c4d").id == 4  # exact short id, over the name that starts with it
        with pytest.raises(AmbiguousNameError) as caught:
            find_run(store, "1a2b")
        assert "run 3 '1a2b3c4d-nightly', run 4 'calc-1a2b3c4d'" in str(caught.value)
    finally:
        store.close()
