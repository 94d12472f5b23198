"""Every malformed Experiment file gets exit 2 from `tuner validate` and from `tuner run`, one readable
error naming the field, no traceback, and nothing stored (issue 10's first "done when").

The cases are the ~200 of `malformed_cases` (wrong types, unknown fields, unknown algorithms and
settings, impossible ranges, bad workload values, broken YAML, wrong placeholders) plus the invalid golden
files. The CLI runs in-process through its real entry point (`tuner.cli.main`, the same `run_app` error
handling as the console script) for speed; a few cases also run as real subprocesses.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.malformed_cases import BASE, Case, dump, generated
from tuner.cli import main

ROOT = Path(__file__).resolve().parents[2]
GOLDEN_INVALID = ROOT / "tests" / "golden" / "experiments" / "invalid"


def golden_cases() -> Iterator[Case]:
    for path in sorted([*GOLDEN_INVALID.glob("*.yaml"), *GOLDEN_INVALID.glob("*.json")]):
        expected = path.with_suffix(".expected").read_text().splitlines()
        yield Case(f"golden {path.name}", path.read_text(), expected[0])


CASES = [*generated(), *golden_cases()]


def write(case: Case, folder: Path) -> Path:
    path = folder / ("experiment.json" if case.name.endswith(".json") else "experiment.yaml")
    path.write_bytes(case.text.encode("utf-8", "surrogateescape"))  # "\udcff" becomes a raw 0xff byte
    return path


def tuner(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the `tuner` command in this process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 1), out, err


def assert_refused_by_validate(file: Path, expect: str, code: int, out: str, err: str) -> None:
    assert code == 2, out + err
    assert "Traceback" not in out + err
    lines = out.splitlines()
    assert lines and all(line.startswith(f"{file}: ") for line in lines), out
    assert expect in out, out
    assert err == ""


def assert_refused_by_run(file: Path, expect: str, code: int, out: str, err: str) -> None:
    assert code == 2, out + err
    assert "Traceback" not in out + err
    assert out == ""
    first, *more = err.splitlines()
    assert first.startswith(f"error: {file}: "), err  # one error: its problems indented below it
    assert all(line.startswith("  ") for line in more), err
    assert expect in err, err


def nothing_stored(home: Path, store: Path) -> None:
    assert not store.exists(), "the store was created for an invalid file"
    assert list(home.rglob("*")) == [], "trial folders were created for an invalid file"


def test_there_are_at_least_200_cases_and_each_is_invalid_in_its_own_way() -> None:
    assert len(CASES) >= 200
    assert len({case.text for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_validate_and_run_refuse_with_exit_2(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    home, store = tmp_path / "home", tmp_path / "store.db"
    home.mkdir()
    monkeypatch.setenv("TUNER_HOME", str(home))
    file = write(case, tmp_path)

    assert_refused_by_validate(file, case.expect, *tuner(capsys, "validate", str(file)))
    code, out, err = tuner(capsys, "validate", "--local", str(file))
    assert code == 2 and "Traceback" not in out + err
    run_expect = "" if case.name.startswith("golden") else case.expect  # run reads one document only
    assert_refused_by_run(file, run_expect, *tuner(capsys, "run", str(file), "--store", f"sqlite:///{store}"))
    nothing_stored(home, store)


def test_the_unbroken_base_is_accepted_and_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: without the breakage the same checks pass and `run` stores the experiment."""
    home, store = tmp_path / "home", tmp_path / "store.db"
    monkeypatch.setenv("TUNER_HOME", str(home))
    file = tmp_path / "experiment.yaml"
    file.write_text(dump(BASE))
    assert tuner(capsys, "validate", str(file))[0] == 0
    assert tuner(capsys, "validate", "--local", str(file))[0] == 0
    code, out, err = tuner(capsys, "run", "-q", str(file), "--store", f"sqlite:///{store}")
    assert code == 0, err
    assert store.exists() and "malformed-base" in out


SUBPROCESS_CASES = ["algorithm 'nosuch'", "gpu limits '0.5'", "backoffLimit 'two'", "yaml: tab indentation"]


def test_as_real_subprocesses(tmp_path: Path) -> None:
    """A few cases as a user meets them: the console entry point in its own process."""
    by_name = {case.name: case for case in CASES}
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TUNER_HOME": str(tmp_path / "home")}
    env.pop("TUNER_DEBUG", None)
    started = []
    for number, name in enumerate(SUBPROCESS_CASES):
        folder = tmp_path / str(number)
        folder.mkdir()
        file = write(by_name[name], folder)
        store = folder / "store.db"
        for command in (["validate", str(file)], ["run", str(file), "--store", f"sqlite:///{store}"]):
            process = subprocess.Popen(
                [sys.executable, "-m", "tuner.cli", *command],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            started.append((name, file, store, command[0], process))
    for name, file, store, command, process in started:
        out, err = process.communicate(timeout=120)
        check = assert_refused_by_validate if command == "validate" else assert_refused_by_run
        check(file, by_name[name].expect, process.returncode, out, err)
        assert not store.exists()
    assert not (tmp_path / "home").exists() or list((tmp_path / "home").rglob("*")) == []
