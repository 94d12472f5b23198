"""`tuner.checkpoint_dir()` / `tuner.parent_checkpoint_dir()`: a folder per trial, in threads and in worker
processes; outside a trial a clear error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import tuner


def objective(params: dict[str, Any]) -> float:
    own = tuner.checkpoint_dir()
    assert own.is_dir() and tuner.parent_checkpoint_dir() is None  # no parent outside pbt
    (own / "model.txt").write_text(str(params["x"]))
    return float(params["x"])


@pytest.mark.parametrize("threads", [True, False])
def test_each_trial_has_its_own_checkpoint_folder(sqlite_url: str, threads: bool) -> None:
    result = tuner.tune(
        objective,
        {"x": tuner.search.double(0, 1)},
        name=f"ckpt-{'threads' if threads else 'workers'}",
        algorithm_name="random",
        max_trial_count=3,
        parallel_trial_count=2,
        threads=threads,
        store=sqlite_url,
        verbose=False,
    )
    assert len(result.trials) == 3
    for t in result.trials:
        saved = Path(t.folder or "") / "checkpoint" / "model.txt"
        assert float(saved.read_text()) == pytest.approx(t.parameters["x"])


def test_outside_a_trial_the_error_says_where_it_works(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TUNER_CHECKPOINT_DIR", raising=False)
    with pytest.raises(RuntimeError, match=r"outside a trial.*tuner run.*tuner\.tune"):
        tuner.checkpoint_dir()
    assert tuner.parent_checkpoint_dir() is None
