"""Environment problems reach a CLI user as one readable line and the documented exit code, never a traceback.

Every case is real: a closed port on 127.0.0.1 for an unreachable PostgreSQL, a file of text where the store
should be, a file standing where the store's folder should be, and, in a private mount namespace
(`unshare --mount`), a read-only bind mount and a 1 MB tmpfs that is really full. Exit codes: 2 when the
store named is wrong (fix --store/TUNER_STORE), 1 when it cannot be used now (fix the environment).
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.malformed_cases import BASE, dump

ROOT = Path(__file__).resolve().parents[2]


def tuner(*args: str, home: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "TUNER_HOME": str(home)}
    environment.pop("TUNER_DEBUG", None)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "tuner.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        cwd=home.parent,
    )


def one_error_line(result: subprocess.CompletedProcess[str], code: int, *phrases: str) -> str:
    """The single `error: ...` line of a failed command, checked for its exit code and phrases."""
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    assert result.stderr.rstrip().endswith(errors[0])  # nothing after it (no traceback, no second report)
    for phrase in phrases:
        assert phrase in errors[0], errors[0]
    return errors[0]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def experiment(tmp_path: Path) -> Path:
    path = tmp_path / "experiment.yaml"
    path.write_text(dump(BASE))
    return path


def closed_port() -> int:
    """A port on 127.0.0.1 nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_unreachable_postgresql(home: Path, experiment: Path) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/tuner"
    for args in (["run", str(experiment)], ["db", "current"]):
        one_error_line(
            tuner(*args, "--store", url, home=home),
            1,
            f"cannot connect to the store {url}",
            "Connection refused",
            "check that the PostgreSQL server is running",
        )


@pytest.mark.postgres
def test_a_postgresql_database_that_does_not_exist_is_a_wrong_url(home: Path, postgres_url: str) -> None:
    url = postgres_url.rpartition("/")[0] + "/no_such_database_here"
    one_error_line(
        tuner("experiments", "list", "--store", url, home=home),
        2,
        'database "no_such_database_here" does not exist',
    )


def test_a_store_file_that_is_not_a_database(home: Path, tmp_path: Path, experiment: Path) -> None:
    notes = tmp_path / "notes.db"
    notes.write_text("shopping list: milk, eggs\n" * 100)
    for args in (["run", str(experiment)], ["db", "current"]):
        one_error_line(
            tuner(*args, "--store", f"sqlite:///{notes}", home=home),
            2,
            f"the store sqlite:///{notes} is not a SQLite database",
        )
    assert notes.read_text().startswith("shopping list")  # left as it was


def test_a_file_where_the_store_folder_should_be(home: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "folder"
    blocker.write_text("a file, not a folder")
    line = one_error_line(
        tuner("experiments", "list", "--store", f"sqlite:///{blocker}/tuner.db", home=home),
        1,
        "cannot create the folder of the store",
    )
    assert f"{blocker} is a file, not a folder" in line


def test_a_store_from_a_newer_tuner(home: Path, tmp_path: Path, experiment: Path) -> None:
    store = tmp_path / "newer.db"
    assert tuner("db", "upgrade", "--store", f"sqlite:///{store}", home=home).returncode == 0
    with sqlite3.connect(store) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    for args in (["run", str(experiment)], ["db", "upgrade"]):
        one_error_line(
            tuner(*args, "--store", f"sqlite:///{store}", home=home),
            1,
            "'9999_from_the_future', which this tuner does not know",
            "upgrade tuner",
        )


# -- read-only and full disks, in a private mount namespace -------------------------------------------------


def in_mount_namespace(script: str, home: Path) -> subprocess.CompletedProcess[str]:
    """Run a shell script in a private mount namespace (mounts vanish with it; root is needed, or
    unprivileged user namespaces, which `--map-root-user` uses)."""
    unshare = ["unshare", "--mount"] + ([] if os.geteuid() == 0 else ["--map-root-user"])
    probe = subprocess.run([*unshare, "true"], capture_output=True, text=True)
    assert probe.returncode == 0, (
        f"this test needs a private mount namespace (`unshare --mount`): {probe.stderr.strip()}"
    )
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "TUNER_HOME": str(home)}
    environment.pop("TUNER_DEBUG", None)
    return subprocess.run(
        [*unshare, "sh", "-c", script], capture_output=True, text=True, timeout=180, env=environment
    )


TUNER = f"{shlex.quote(sys.executable)} -m tuner.cli"


def test_a_read_only_disk(home: Path, tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    (disk / "old").mkdir(parents=True)
    existing = f"sqlite:///{disk}/old/tuner.db"
    assert tuner("db", "upgrade", "--store", existing, home=home).returncode == 0
    script = f"""
        mount --bind {disk} {disk} && mount -o remount,bind,ro {disk} || exit 99
        {TUNER} experiments list --store {existing}
    """
    line = one_error_line(
        in_mount_namespace(script, home), 1, f"the store {existing} cannot be opened for writing"
    )
    assert "read-only disk" in line
    script = f"""
        mount --bind {disk} {disk} && mount -o remount,bind,ro {disk} || exit 99
        {TUNER} experiments list --store sqlite:///{disk}/new/tuner.db
    """
    one_error_line(in_mount_namespace(script, home), 1, "cannot create the folder", "Read-only file system")


def test_a_full_disk_when_the_store_is_created(home: Path, tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    url = f"sqlite:///{disk}/tuner.db"
    script = f"""
        mount -t tmpfs -o size=64k tmpfs {disk} || exit 99
        {TUNER} experiments list --store {url}
    """
    one_error_line(
        in_mount_namespace(script, home), 1, f"the store {url} cannot be written: the disk is full"
    )


MID_RUN = """
import json, subprocess, sys
from tuner.cli import main
from tuner.store import open_store

url, experiment, disk = sys.argv[1:4]
keeper = open_store(url)  # a reader keeps the WAL index open, as a dashboard would
subprocess.run(["sh", "-c", f"dd if=/dev/zero of={disk}/filler bs=4k 2>/dev/null"])
main(["run", experiment, "--store", url])
"""


def test_the_disk_fills_up_during_a_run(home: Path, tmp_path: Path, experiment: Path) -> None:
    """The store opens fine, then its disk is full when `tuner run` records the experiment."""
    disk = tmp_path / "disk"
    disk.mkdir()
    url = f"sqlite:///{disk}/tuner.db"
    program = tmp_path / "mid_run.py"
    program.write_text(MID_RUN)
    script = f"""
        mount -t tmpfs -o size=1m tmpfs {disk} || exit 99
        {TUNER} db upgrade --store {url} >/dev/null 2>&1 || exit 98
        {shlex.quote(sys.executable)} {program} {url} {experiment} {disk}
        code=$?
        rm {disk}/filler
        {TUNER} experiments list --store {url} -o json > {tmp_path}/after.json
        exit $code
    """
    one_error_line(in_mount_namespace(script, home), 1, "the store cannot be written: the disk is full")
    assert json.loads((tmp_path / "after.json").read_text())["items"] == []  # nothing half-written


# -- --debug and TUNER_DEBUG ---------------------------------------------------------------------------------


def test_debug_shows_the_traceback(home: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.db"
    notes.write_text("not a database\n" * 100)
    plain = tuner("experiments", "list", "--store", f"sqlite:///{notes}", home=home)
    assert "Traceback" not in plain.stderr
    for result in (
        tuner("--debug", "experiments", "list", "--store", f"sqlite:///{notes}", home=home),
        tuner("experiments", "list", "--store", f"sqlite:///{notes}", home=home, env={"TUNER_DEBUG": "1"}),
    ):
        assert result.returncode == 2
        assert "Traceback (most recent call last)" in result.stderr
        assert "sqlite3.DatabaseError: file is not a database" in result.stderr
        assert result.stderr.rstrip().splitlines()[-1].startswith("error: the store ")


def test_an_unexpected_error_is_one_line_that_asks_for_a_bug_report(
    home: Path, experiment: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug cannot be produced on demand, so one is planted: the suggestion step raises a RuntimeError."""
    import controllers.admission
    from tuner.cli import main

    def broken(experiment: object) -> list[object]:
        raise RuntimeError("planted bug\nsecond line")

    monkeypatch.setattr(controllers.admission, "check_workload", broken)
    monkeypatch.setenv("TUNER_HOME", str(home))
    monkeypatch.delenv("TUNER_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exited:
        main(["validate", str(experiment)])
    err = capsys.readouterr().err
    assert exited.value.code == 1
    assert err.splitlines() == [
        "error: unexpected RuntimeError: planted bug -- this is a bug in tuner; run the command again with "
        "--debug (or TUNER_DEBUG=1) to see the traceback and include it in a bug report"
    ]
    monkeypatch.setenv("TUNER_DEBUG", "1")
    with pytest.raises(SystemExit):
        main(["validate", str(experiment)])
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "RuntimeError: planted bug" in err


def test_a_configmap_template_that_is_not_yaml(home: Path, tmp_path: Path) -> None:
    document = json.loads(json.dumps(BASE))
    template = document["spec"]["trialTemplate"]
    del template["trialSpec"]
    template["configMap"] = {
        "configMapName": "templates",
        "configMapNamespace": "default",
        "templatePath": "job",
    }
    template["successCondition"] = 'status.conditions.#(type=="Complete")#|#(status=="True")#'
    template["failureCondition"] = 'status.conditions.#(type=="Failed")#|#(status=="True")#'
    experiment = tmp_path / "experiment.yaml"
    experiment.write_text(dump(document))
    manifest = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "templates", "namespace": "default"},
        "data": {"job": "kind: Job\nspec: {template: [unclosed\n"},
    }
    (tmp_path / "templates.yaml").write_text(dump(manifest))
    store = tmp_path / "store.db"
    one_error_line(
        tuner("run", str(experiment), "--store", f"sqlite:///{store}", home=home),
        2,
        "spec.trialTemplate.configMap.templatePath: 'job' in ConfigMap 'templates' (templates.yaml) is not "
        "valid YAML",
    )
    assert not store.exists()
